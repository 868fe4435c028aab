"""Proof that a request was forwarded by a replica, not sent by a client pretending.

A forwarded request skips what the replica the client reached already did (its per-address
rate limit, its browser-origin check), so the ``x-podium-forwarded`` header carries
``v1.<time>.<nonce>.<mac>``: an HMAC-SHA256, under a key every replica of the database shares
(``store.shared_secrets``), of the method, path, query, time, nonce and the body's digest.
A proof older than ``VALID_SECONDS`` (either way: clocks differ a little), with a wrong MAC, or
seen before (its nonce) is refused with 403, before anything else looks at the request."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.http.refusal import refuse

log = logging.getLogger(__name__)
FORWARDED = "x-podium-forwarded"
VALID_SECONDS = 30.0
PROVEN = "podium.forwarded"  # set in the scope of a request whose proof held


class ForwardProof:
    """Signs forwarded requests and checks them; ``key`` None: this server takes none."""

    def __init__(self, key: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # nonce -> when it expires

    def _mac(self, method: str, target: str, when: str, nonce: str, body: bytes) -> str:
        assert self.key is not None
        digest = hashlib.sha256(body).hexdigest()
        signed = "\n".join((method.upper(), target, when, nonce, digest)).encode()
        return hmac.new(self.key, signed, hashlib.sha256).hexdigest()

    def sign(self, method: str, target: str, body: bytes = b"") -> str:
        """The header value for a request to ``target`` (path, and ``?query`` if any)."""
        when, nonce = str(int(self._clock())), secrets.token_hex(12)
        return f"v1.{when}.{nonce}.{self._mac(method, target, when, nonce, body)}"

    def refusal(self, proof: str, method: str, target: str, body: bytes = b"") -> str | None:
        """Why ``proof`` does not prove this request was forwarded by a replica, or None."""
        if self.key is None:
            return "this server takes no forwarded requests"
        parts = proof.split(".")
        if len(parts) != 4 or parts[0] != "v1" or not parts[1].isdigit():
            return "malformed forwarding proof"
        _, when, nonce, mac = parts
        now = self._clock()
        if abs(now - int(when)) > VALID_SECONDS:
            return "stale forwarding proof"
        if not hmac.compare_digest(mac, self._mac(method, target, when, nonce, body)):
            return "forged forwarding proof"
        while self._seen and next(iter(self._seen.values())) < now:
            self._seen.popitem(last=False)
        if nonce in self._seen:
            return "replayed forwarding proof"
        self._seen[nonce] = now + 2 * VALID_SECONDS
        return None


def target_of(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    path: str = scope["path"]
    return path + (f"?{query}" if query else "")


class ForwardedCheck:
    """ASGI middleware: a request with ``x-podium-forwarded`` is let on (marked ``PROVEN``)
    only when its proof holds; else 403. Requests without the header pass untouched."""

    def __init__(self, app: ASGIApp, proof: ForwardProof, max_body_bytes: int) -> None:
        self.app = app
        self.proof = proof
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(FORWARDED.encode())
        if given is None:
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["type"] == "http":
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body") or len(body) > self.max_body:
                    break
        method = scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET"
        why = self.proof.refusal(given.decode("latin-1"), method, target_of(scope), body)
        if why is not None:
            client = scope.get("client")
            log.warning("refused a request claiming to be forwarded (%s) from %s", why, client)
            await refuse(scope, receive, send, 403, why)
            return
        scope[PROVEN] = True
        await self.app(scope, _replay(body, receive) if scope["type"] == "http" else receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
