"""Request body limits as pure ASGI middleware: a body over the size limit gets 413, and one
that is not UTF-8 or nests JSON deeper than ``MAX_NESTING`` gets a parse error (JSON-RPC
-32700 on the agents' JSON-RPC paths, 400 elsewhere); none reaches a handler, whose parser
would give up with an internal error."""

from __future__ import annotations

import re

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.http.refusal import send_json

MAX_NESTING = 100
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSONRPC_PATH = re.compile(r"^/(agents/[^/]+)?$")


def nesting(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text go (strings skipped). A body with no
    more opening brackets than ``MAX_NESTING`` is not scanned: their count is returned, an
    upper bound that is within the limit either way."""
    opening = body.count(b"[") + body.count(b"{")
    if opening <= MAX_NESTING:
        return opening
    raw = np.frombuffer(_STRING.sub(b'""', body), dtype=np.uint8)
    steps = (raw == ord("[")).astype(np.int32) + (raw == ord("{"))
    steps -= (raw == ord("]")).astype(np.int32) + (raw == ord("}"))
    return int(np.cumsum(steps).max(initial=0))


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._drain(receive)
            await self._reject(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await self._drain(receive)
                await self._reject(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = b"".join(chunks)
        scope["podium.body"] = whole  # read once: the rate limits look at what it asks for
        problem = _unparsable(whole)
        if problem is not None:
            await _parse_error(scope, send, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _drain(receive: Receive) -> None:
        """Reads and drops the rest of the body, so the client gets to read the 413."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                return

    async def _reject(self, send: Send) -> None:
        message = f"request body exceeds {self.max_bytes} bytes"
        payload = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32600, "message": message},
            "detail": {"status": 413, "message": message},
        }
        await send_json(send, 413, payload, [(b"connection", b"close")])


def _unparsable(body: bytes) -> str | None:
    """Why no handler could read ``body`` (not UTF-8, or nested too deep), or None."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the request body is not UTF-8 (byte {error.start})"
    if nesting(body) > MAX_NESTING:
        return f"JSON nested deeper than {MAX_NESTING} levels"
    return None


async def _parse_error(scope: Scope, send: Send, message: str) -> None:
    if _JSONRPC_PATH.match(scope.get("path", "")):
        status = 200  # a JSON-RPC parse error, as for any other unparsable request
        payload: dict[str, object] = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32700, "message": message},
        }
    else:
        status = 400
        payload = {"error": {"status": 400, "message": message}}
    await send_json(send, status, payload)
