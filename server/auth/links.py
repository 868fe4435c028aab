"""Room links: signed, expiring tokens that let whoever holds them listen to (or speak in) one
room, and nothing else. They are JWTs (HS256) signed with the server's token secret, so every
replica that shares the secret accepts them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import jwt

from server.auth.principal import GRANTS, Grant, Principal

TOKEN_TYPE = "podium-room"
SECRET_FILE = "token-secret"


def load_secret(configured: str, data_dir: Path) -> str:
    """The configured secret, else one generated once and kept in the data dir (mode 0600)."""
    if configured:
        return configured
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret


class RoomLinks:
    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def issue(self, room_id: str, grant: Grant, ttl: float) -> tuple[str, float]:
        """A token for ``room_id`` granting ``grant`` for ``ttl`` seconds, and when it expires."""
        now = self._clock()
        expires = now + ttl
        claims = {
            "typ": TOKEN_TYPE,
            "room": room_id,
            "grant": grant,
            "iat": int(now),
            "exp": int(expires),
            "jti": secrets.token_hex(6),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), expires

    def verify(self, token: str) -> Principal | None:
        """The guest a valid room token names, or None (bad signature, expired, not a link)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["exp", "room", "grant"]},
                leeway=0,
            )
        except jwt.PyJWTError:
            return None
        if self._clock() >= float(claims["exp"]):
            return None
        room, grant = claims.get("room"), claims.get("grant")
        if claims.get("typ") != TOKEN_TYPE or not isinstance(room, str) or grant not in GRANTS:
            return None
        return Principal(f"guest:{room}:{claims.get('jti', '')}", "room", room, grant)
