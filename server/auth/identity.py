"""Turns a bearer credential into a principal: an API key, a room link, or a token from an
identity provider (verified against its JWKS)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

import jwt

from server.auth.links import RoomLinks
from server.auth.principal import Principal

log = logging.getLogger(__name__)


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class JwtVerifier:
    """Tokens signed by an identity provider whose public keys are at ``jwks_url``; the
    principal is the token's subject. Keys are cached, fetched again for an unknown ``kid``."""

    def __init__(self, jwks_url: str, audience: str, issuer: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._audience = audience or None
        self._issuer = issuer or None

    def _verify(self, token: str) -> Principal | None:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWKClientConnectionError as error:
            log.warning("identity provider keys unavailable: %s", error)
            return None
        except jwt.PyJWTError:
            return None
        subject = claims.get("sub")
        return Principal(f"jwt:{subject}", "jwt") if isinstance(subject, str) and subject else None

    async def verify(self, token: str) -> Principal | None:
        if token.count(".") != 2:
            return None
        return await asyncio.to_thread(self._verify, token)


class Identity:
    """Every way a caller can prove who they are. With no API key and no identity provider
    configured, authentication is off: every caller is the anonymous principal."""

    def __init__(
        self, api_keys: dict[str, str], links: RoomLinks, jwt_verifier: JwtVerifier | None
    ) -> None:
        self._keys = [(key_digest(key), name) for key, name in api_keys.items()]
        self.links = links
        self._jwt = jwt_verifier

    @property
    def enabled(self) -> bool:
        return bool(self._keys) or self._jwt is not None

    def _api_key(self, credential: str) -> Principal | None:
        digest = key_digest(credential)
        found: str | None = None
        for known, name in self._keys:  # every key compared, in constant time
            if hmac.compare_digest(known, digest):
                found = name
        return Principal(found, "key") if found is not None else None

    async def principal(self, credential: str) -> Principal | None:
        """Who ``credential`` proves the caller is, or None if it proves nothing."""
        if not credential or len(credential) > 8192:
            return None
        found = self._api_key(credential) or self.links.verify(credential)
        if found is None and self._jwt is not None:
            found = await self._jwt.verify(credential)
        return found
