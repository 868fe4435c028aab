"""Streaming methods answer errors as ``text/event-stream``.

A client that called ``SendStreamingMessage`` or ``SubscribeToTask`` (or the 0.3
``message/stream`` / ``tasks/resubscribe``) reads an event stream; when the request fails
before the stream starts, the JSON-RPC error is sent as that stream's only event. An error
raised once any event stream has started (the REST bindings check some requests only then)
becomes the stream's last event, ``{"error": ...}``, instead of a cut connection.
"""

from __future__ import annotations

import json
import logging

from a2a.utils.errors import A2AError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

STREAMING_METHODS = frozenset(
    {"SendStreamingMessage", "SubscribeToTask", "message/stream", "tasks/resubscribe"}
)


_NAMES = tuple(method.encode() for method in STREAMING_METHODS)


class StreamingErrorsAsEvents:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streaming = False

        async def watch(message: Message) -> None:
            nonlocal streaming
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                streaming = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            await send(message)

        try:
            await self._call(scope, receive, watch)
        except Exception as error:
            if not streaming:
                raise
            await _last_event(send, error, scope)

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        first = await receive()
        body = first.get("body", b"")
        more = first.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()

        if more or not _is_streaming_call(body):
            await self.app(scope, replay, send)
            return
        start: Message | None = None

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"application/json"):
                    start = message  # hold it: the body decides
                    return
                await send(message)
                return
            if start is not None and message["type"] == "http.response.body":
                payload = b"data: " + message.get("body", b"").strip() + b"\n\n"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"text/event-stream; charset=utf-8"),
                            (b"cache-control", b"no-store"),
                            (b"content-length", str(len(payload)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": payload})
                start = None
                return
            await send(message)

        await self.app(scope, replay, rewrite)


async def _last_event(send: Send, error: Exception, scope: Scope) -> None:
    """Ends a started event stream with the error as its last event."""
    detail: dict[str, object]
    if isinstance(error, A2AError):  # the client's request, refused once the stream began
        log.info("%s %s: %s", scope["method"], scope["path"], error)
        detail = {"type": type(error).__name__, "message": str(error) or error.message}
        data = getattr(error, "data", None)
        if isinstance(data, dict):
            detail["data"] = data
    else:
        log.error("%s %s failed mid-stream", scope["method"], scope["path"], exc_info=error)
        detail = {"type": "InternalError", "message": "internal error"}
    payload = b"event: error\ndata: " + json.dumps({"error": detail}).encode() + b"\n\n"
    try:
        await send({"type": "http.response.body", "body": payload, "more_body": False})
    except OSError:
        pass  # the client is gone


def _is_streaming_call(body: bytes) -> bool:
    if not any(name in body for name in _NAMES):  # no streaming method named: no parse
        return False
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(request, dict) and request.get("method") in STREAMING_METHODS
