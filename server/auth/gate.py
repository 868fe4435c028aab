"""The front door, as ASGI middleware: who the caller is, and whether the request may go on.

- Public routes (the page, agent cards, the agent directory, health) need no credential.
- Every other route needs ``Authorization: Bearer <credential>`` when authentication is on:
  an API key, an identity provider's token or a room link. Browsers' ``EventSource`` and
  ``WebSocket`` cannot set headers, so ``?access_token=`` is read too. Missing or invalid:
  401 with ``WWW-Authenticate`` (a WebSocket is accepted, then closed with 4401).
- A room link's holder reaches only that room's routes (403, or close 4403, elsewhere).
- Cross-site requests that change state are refused (403): a browser's ``Origin`` must be the
  server itself or on the CORS allow-list, and a body must be JSON, so a form on another site
  can neither post nor open a socket here.

The principal goes into the scope as Starlette's ``user``, which the a2a-sdk reads into its
call context: its owner scoping keeps each principal's tasks apart.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth.identity import Identity
from server.auth.principal import ANONYMOUS, PodiumUser, Principal
from server.http.refusal import refuse

log = logging.getLogger(__name__)
PROVEN = "podium.forwarded"  # server.replicas.forward_proof marks a proven forwarded request
REALM = 'Bearer realm="podium"'
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_CARD = re.compile(r"^(/agents/[^/]+)?/\.well-known/agent(-card)?\.json$|^/agents/[^/]+$")
_BROADCAST = re.compile(r"^/rooms/[^/]+/live/[^/]+/(index\.m3u8|init\.mp4|\d+\.m4s)$")  # keyed
_PUBLIC = {"/", "/healthz", "/agents", "/rooms/event-types", "/favicon.ico"}
_GUEST_ROUTES = re.compile(
    r"^/rooms/(?P<room>[^/]+)(/(events|ws|offer|audio|say|ice-servers|recording|live\.m3u8|participants/[^/]+))?$"
)
_JSON_TYPE = re.compile(r"^application/([\w.+-]+\+)?json$")


def is_public(method: str, path: str) -> bool:
    if method not in ("GET", "HEAD"):
        return False
    if path in _PUBLIC or path.startswith("/web/"):
        return True
    return bool(_CARD.match(path) or _BROADCAST.match(path))


def guest_may(principal: Principal, path: str) -> bool:
    """Whether a room link's holder may use ``path`` at all (the routes say what they allow)."""
    if path in ("/rooms", "/recordings") or path.startswith("/recordings/"):
        return True  # lists only their room('s recordings); the routes check the room
    match = _GUEST_ROUTES.match(path)
    return match is not None and match.group("room") == principal.room


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def credential(scope: Scope) -> str:
    authorization = _header(scope, b"authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    raw: bytes = scope.get("query_string", b"")
    query = parse_qs(raw.decode("latin-1"))
    for name in ("access_token", "token"):
        if query.get(name):
            return query[name][0]
    return ""


class Gate:
    def __init__(self, app: ASGIApp, identity: Identity, allowed_origins: list[str]) -> None:
        self.app = app
        self.identity = identity
        self.allowed_origins = {o.rstrip("/") for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        if scope["type"] == "websocket" or method in STATE_CHANGING:
            refusal = self._cross_site(scope)
            if refusal is not None:
                await _refuse(scope, receive, send, 403, refusal)
                return
        if scope["type"] == "http" and method in ("POST", "PUT", "PATCH"):
            refusal = _not_json(scope)
            if refusal is not None:
                await _refuse(scope, receive, send, 415, refusal)
                return
        principal = ANONYMOUS
        if self.identity.enabled and not (scope["type"] == "http" and is_public(method, path)):
            given = credential(scope)
            found = await self.identity.principal(given) if given else None
            if found is None:
                why = "invalid or expired credential" if given else "authentication required"
                await _refuse(scope, receive, send, 401, f"{why}: send Authorization: Bearer <key>")
                return
            principal = found
        if principal.is_room_guest and not guest_may(principal, path):
            await _refuse(scope, receive, send, 403, "a room link reaches only its room")
            return
        scope["user"] = PodiumUser(principal)
        scope["auth"] = AuthCredentials(["authenticated"] if principal.name else [])
        await self.app(scope, receive, send)

    def _cross_site(self, scope: Scope) -> str | None:
        origin = _header(scope, b"origin")
        if origin is None or origin.rstrip("/") in self.allowed_origins:
            return None
        if scope.get(PROVEN):
            # From the replica the client reached, which checked it (proven by its HMAC).
            return None
        host = _header(scope, b"host") or ""
        if urlsplit(origin).netloc == host:
            return None
        return f"cross-site request from {origin} refused (not on the CORS allow-list)"


def _not_json(scope: Scope) -> str | None:
    length = _header(scope, b"content-length")
    chunked = (_header(scope, b"transfer-encoding") or "").lower() == "chunked"
    if length in (None, "0") and not chunked:
        return None  # no body
    media = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if not media or _JSON_TYPE.match(media):
        return None  # no type given is read as JSON; a browser form always names its type
    return f"send JSON (Content-Type: application/json), not {media}"


def principal_of(scope: Scope) -> Principal:
    user = scope.get("user")
    return user.principal if isinstance(user, PodiumUser) else ANONYMOUS


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    challenge = [(b"www-authenticate", REALM.encode())] if status == 401 else None
    await refuse(scope, receive, send, status, message, challenge)
