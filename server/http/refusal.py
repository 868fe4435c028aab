"""Answers a middleware gives in place of the app: JSON over HTTP, a close code on a socket."""

from __future__ import annotations

import json
import logging

from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)


async def send_json(
    send: Send, status: int, payload: object, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": start + (headers or [])}
    )
    await send({"type": "http.response.body", "body": body})


async def refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Refuses a request with ``status`` and why: a JSON error (one INFO log line: a client's
    matter), or a socket accepted and closed with ``4000 + status`` (a close before accepting
    would reach the client as a bare HTTP 403)."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4000 + status, "reason": message[:120]})
        return
    log.info("%s %s: %d %s", scope.get("method"), scope.get("path"), status, message)
    await send_json(send, status, {"error": {"status": status, "message": message}}, headers)
