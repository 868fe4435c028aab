"""Any replica answers every room route: a request for a room another replica holds is passed
to that replica whole (HTTP bodies and streams, server-sent events, WebSockets) and its answer
passed back, so clients never need to know where a room lives.

An ASGI middleware in front of the app: paths ``/rooms/{id}`` and ``/rooms/{id}/...`` for a
room held elsewhere (``RoomLeases.holder``) are forwarded; everything else goes on. A forwarded
request carries ``x-podium-forwarded`` with a proof (``forward_proof``); a replica that gets a
proven one for a room it does not hold answers 503 (the room is moving) instead of forwarding
it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import httpx
import websockets
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from websockets.asyncio.client import ClientConnection

from server.replicas.forward_proof import FORWARDED, PROVEN, ForwardProof, target_of
from server.replicas.room_leases import RoomLeases
from server.replicas.room_records import RecordFailed

log = logging.getLogger(__name__)
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "te",
    "trailer",
    "proxy-authorization",
}
WS_DROP = {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "origin"}


def _room_id(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "rooms" and parts[2] not in ("", "event-types"):
        return parts[2]
    return None


class RoomForwarding:
    def __init__(
        self, app: ASGIApp, leases: RoomLeases, http: httpx.AsyncClient, proof: ForwardProof
    ) -> None:
        self.app = app
        self.leases = leases
        self._http = http  # owned by the app (closed at shutdown)
        self._proof = proof

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        room_id = (
            _room_id(scope.get("path", "")) if scope["type"] in ("http", "websocket") else None
        )
        holder = await self._holder(room_id) if room_id else None
        if holder is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope.get(PROVEN):
            await self._moving(scope, receive, send)
        elif scope["type"] == "http":
            await self._forward_http(holder, scope, receive, send, headers)
        else:
            await self._forward_socket(holder, scope, receive, send, headers)

    async def _holder(self, room_id: str) -> str | None:
        try:
            return await self.leases.holder(room_id)
        except (SQLAlchemyError, OSError, RecordFailed) as error:  # the route answers itself
            log.warning("could not look up room %s's replica: %s", room_id, error)
            return None

    @staticmethod
    def _target(holder: str, scope: Scope, websocket: bool = False) -> str:
        base = holder.rstrip("/")
        if websocket:
            base = "ws" + base.removeprefix("http")
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{base}{scope['path']}" + (f"?{query}" if query else "")

    async def _moving(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1013, "reason": "room is moving"})
            return
        body = json.dumps(
            {"error": {"status": 503, "message": "the room is moving to another replica; retry"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _forward_http(
        self, holder: str, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        outgoing = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
        outgoing[FORWARDED] = self._proof.sign(scope["method"], target_of(scope), body)
        request = self._http.build_request(
            scope["method"], self._target(holder, scope), headers=outgoing, content=body
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            log.warning("replica %s did not answer for %s: %s", holder, scope["path"], error)
            await self._moving(scope, receive, send)
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k.encode("latin-1"), v.encode("latin-1"))
                        for k, v in response.headers.multi_items()
                        if k.lower() not in HOP_BY_HOP
                    ],
                }
            )
            relay = asyncio.create_task(self._relay_body(response, send))
            gone = asyncio.create_task(_disconnected(receive))
            await asyncio.wait({relay, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in (relay, gone):
                task.cancel()
            await asyncio.wait({relay, gone})  # (a cancel of the caller still propagates)
            _seen(relay, gone)
        finally:
            await response.aclose()

    @staticmethod
    async def _relay_body(response: httpx.Response, send: Send) -> None:
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _forward_socket(
        self, holder: str, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        first = await receive()  # websocket.connect
        if first["type"] != "websocket.connect":
            return
        outgoing = {k: v for k, v in headers.items() if k not in HOP_BY_HOP | WS_DROP}
        outgoing[FORWARDED] = self._proof.sign("WEBSOCKET", target_of(scope))
        try:
            upstream = await websockets.connect(
                self._target(holder, scope, websocket=True),
                additional_headers=outgoing,
                max_size=None,
                open_timeout=10,
            )
        except (OSError, websockets.WebSocketException, TimeoutError) as error:
            log.warning("replica %s refused a socket for %s: %s", holder, scope["path"], error)
            await send({"type": "websocket.close", "code": 1013, "reason": "room is moving"})
            return
        await send({"type": "websocket.accept"})
        async with upstream:
            down = asyncio.create_task(_downstream(upstream, send))
            up = asyncio.create_task(_upstream(receive, upstream))
            await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
            for task in (down, up):
                task.cancel()
            await asyncio.wait({down, up})  # (a cancel of the caller still propagates)
            _seen(down, up)
        code = upstream.close_code or 1000
        with contextlib.suppress(RuntimeError, OSError):
            await send({"type": "websocket.close", "code": code, "reason": upstream.close_reason})


def _seen(*tasks: asyncio.Task[None]) -> None:
    """Marks the tasks' failures as seen: a peer that went away ends its relay, routinely."""
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.debug("relay ended: %r", error)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _downstream(upstream: ClientConnection, send: Send) -> None:
    async for data in upstream:
        message: dict[str, Any] = {"type": "websocket.send"}
        message["bytes" if isinstance(data, bytes) else "text"] = data
        await send(message)


async def _upstream(receive: Receive, upstream: ClientConnection) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "websocket.disconnect":
            await upstream.close(message.get("code", 1000))
            return
        if message.get("bytes") is not None:
            await upstream.send(message["bytes"])
        elif message.get("text") is not None:
            await upstream.send(message["text"])
