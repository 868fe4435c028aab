"""A local OpenAI-compatible chat endpoint that streams real chat-completion SSE chunks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route


class FakeChat:
    """``mode``: ``ok`` streams ``reply``; ``error`` sends an error event after two chunks;
    ``drop`` breaks the connection after two chunks."""

    def __init__(self, reply: str = "Evidence beats anecdotes every single time.") -> None:
        self.reply = reply
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    def _chunk(self, model: str, content: str | None, finish: str | None = None) -> bytes:
        body = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": content} if content is not None else {},
                    "finish_reason": finish,
                }
            ],
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    async def chat(self, request: Request) -> StreamingResponse:
        payload = await request.json()
        self.requests.append(payload)
        model = payload["model"]
        mode = self.mode

        async def events() -> AsyncIterator[bytes]:
            yield self._chunk(model, "")
            for index, word in enumerate(self.reply.split(" ")):
                if index == 2 and mode == "error":
                    error = {"error": {"message": "model overloaded", "type": "server_error"}}
                    yield f"data: {json.dumps(error)}\n\n".encode()
                    return
                if index == 2 and mode == "drop":
                    raise ConnectionResetError("backend died")
                yield self._chunk(model, word if index == 0 else " " + word)
                await asyncio.sleep(0.005)
            yield self._chunk(model, None, "stop")
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")
