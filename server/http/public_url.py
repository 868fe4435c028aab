"""The base URL clients reach this server at, per request.

Cards, the agent directory and share links name absolute URLs. They use ``public_base_url``
when set, else the address the server is bound to; behind a reverse proxy that the server
trusts (``trust_proxy_headers``) they follow the request's ``X-Forwarded-Proto`` and
``X-Forwarded-Host``, so a client sees the URLs it can actually reach.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from a2a.types import a2a_pb2 as pb
from starlette.types import ASGIApp, Receive, Scope, Send

_base: ContextVar[str | None] = ContextVar("podium_public_base", default=None)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def forwarded_base(headers: dict[bytes, bytes]) -> str | None:
    host = headers.get(b"x-forwarded-host", b"").decode("latin-1").split(",")[0].strip()
    proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[0].strip()
    if not host or not _HOST.match(host):
        return None
    return f"{proto if proto in ('http', 'https') else 'http'}://{host}"


class ProxyBase:
    """Sets the request's public base URL from a trusted proxy's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            base = forwarded_base(dict(scope.get("headers", ())))
            if base is not None:
                token = _base.set(base)
                try:
                    await self.app(scope, receive, send)
                finally:
                    _base.reset(token)
                return
        await self.app(scope, receive, send)


def public_base(configured: str) -> str:
    """The base URL for this request: the proxy's, else ``configured``."""
    return _base.get() or configured


def rebased_card(configured: str) -> Callable[[pb.AgentCard], Awaitable[pb.AgentCard]]:
    """A card modifier: the card's URLs under this request's base URL."""

    async def modify(card: pb.AgentCard) -> pb.AgentCard:
        base = _base.get()
        if base is None or base == configured:
            return card
        copy = pb.AgentCard()
        copy.CopyFrom(card)
        for interface in copy.supported_interfaces:
            if interface.url.startswith(configured):
                interface.url = base + interface.url[len(configured) :]
        if copy.provider.url.startswith(configured):
            copy.provider.url = base + copy.provider.url[len(configured) :]
        return copy

    return modify
