"""Rate limits at the door, as ASGI middleware: each request that creates something (a task,
a room, a join) is charged to its principal's bucket and its client address's; one over the
limit gets 429 with ``Retry-After`` (a WebSocket is closed with 4429) and changes nothing.

Who is charged: an authenticated principal always; a client address unless it is loopback (a
local user, or a reverse proxy whose clients' addresses arrive only when the server trusts its
proxy headers). The anonymous principal of a server without authentication is not a bucket of
its own, so on loopback without authentication nothing is limited (local development).
Replicas sharing a database share the buckets (``shared_ratelimit``): one limit per cluster.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from server.auth.gate import principal_of
from server.http.ratelimit import Limiter
from server.http.refusal import refuse

KEYS = "podium.limit_keys"
BODY = "podium.body"  # the request body, when the body limit read it whole
_REST_SEND = re.compile(r"^(/agents/[^/]+)?(/v1)?/message:(send|stream)$")
_JSONRPC = re.compile(r"^(/agents/[^/]+)?/?$")
_SEND_METHOD = re.compile(
    rb'"method"\s*:\s*"(SendMessage|SendStreamingMessage|message/send|message/stream)"'
)
_ROOM_TASK = re.compile(r"^/rooms/[^/]+/(debate|say)$")
_ROOM_JOIN = re.compile(r"^/rooms/[^/]+/(offer|audio|ws)$")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


def limit_keys(scope: Scope) -> list[str]:
    keys = []
    principal = principal_of(scope)
    if principal.name:
        keys.append(f"principal:{principal.name}")
    client = scope.get("client")
    forwarded = bool(scope.get("podium.forwarded"))  # proven by server.replicas.forward_proof
    if client and not forwarded and not is_loopback(str(client[0])):
        # (a request another replica forwarded was charged there, to the client's address)
        keys.append(f"address:{client[0]}")
    return keys


def kind_of(scope: Scope) -> str | None:
    """What a request creates, if anything limited: ``tasks``, ``rooms`` or ``joins``."""
    path: str = scope.get("path", "")
    if scope["type"] == "websocket":
        return "joins" if _ROOM_JOIN.match(path) else None
    if scope.get("method") != "POST":
        return None
    if path == "/stream" or _REST_SEND.match(path) or _ROOM_TASK.match(path):
        return "tasks"
    if path == "/rooms":
        return "rooms"
    if _ROOM_JOIN.match(path):
        return "joins"
    if _JSONRPC.match(path) and _SEND_METHOD.search(scope.get(BODY, b"")[:4096]):
        return "tasks"
    return None


class Throttle:
    def __init__(self, app: ASGIApp, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        keys = scope[KEYS] = limit_keys(scope)
        kind = kind_of(scope) if keys else None
        wait = await self.limiter.acquire(kind, keys) if kind is not None else 0.0
        if wait > 0:
            await _too_many(scope, receive, send, kind or "", wait)
            return
        await self.app(scope, receive, send)


def audio_charge(socket: WebSocket, limiter: Limiter | None) -> Callable[[int], Awaitable[float]]:
    """Charges a socket's inbound audio bytes; returns the wait (> 0: over the limit)."""
    keys = socket.scope.get(KEYS, [])

    async def charge(size: int) -> float:
        if limiter is None or not keys:
            return 0.0
        return await limiter.acquire("audio_bytes", keys, size)

    return charge


async def _too_many(scope: Scope, receive: Receive, send: Send, kind: str, wait: float) -> None:
    retry = max(1, math.ceil(wait))
    message = f"too many {kind} requests; retry in {retry} s"
    await refuse(scope, receive, send, 429, message, [(b"retry-after", str(retry).encode())])
