"""``[webrtc]``: the STUN/TURN servers the server's peers and the clients use, the TURN
credentials minted per principal and join, and the ICE transport policy.

Default: no servers: host candidates only, and nothing is contacted that nobody configured."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from media.ice import IceConfig, IcePolicy, IceServer, check_url, probe_turn, turn_credentials

log = logging.getLogger(__name__)


def _one_or_many(urls: object) -> object:
    """A single URL is a list of one (as the browser's ``RTCIceServer.urls`` allows)."""
    return [urls] if isinstance(urls, str) else urls


class IceServerSettings(BaseModel):
    """One ``webrtc.ice_servers`` entry: STUN or TURN URLs and, for TURN, fixed credentials."""

    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None

    _listed = field_validator("urls", mode="before")(_one_or_many)

    @field_validator("urls")
    @classmethod
    def _usable(cls, urls: list[str]) -> list[str]:
        return [check_url(url) for url in urls]

    @model_validator(mode="after")
    def _turn_has_credentials(self) -> IceServerSettings:
        turn = [url for url in self.urls if url.startswith("turn")]
        if turn and (self.username is None or self.credential is None):
            raise ValueError(f"{turn[0]!r} needs a username and a credential")
        return self


class WebRtcSettings(BaseModel):
    """``[webrtc]``: ``ice_servers`` as given; ``turn_urls`` + ``turn_secret``: a TURN server
    with the REST-API shared secret (coturn's ``use-auth-secret``), credentials minted per
    join valid ``turn_ttl`` seconds; ``ice_transport_policy = "relay"``: the server's peers
    use relay candidates only."""

    model_config = ConfigDict(extra="forbid")

    ice_servers: list[IceServerSettings] = []
    turn_urls: list[str] = []
    turn_secret: str = Field(default="", repr=False)
    turn_ttl: float = Field(default=3600.0, ge=60.0, le=7 * 86_400.0)
    ice_transport_policy: IcePolicy = "all"

    _listed = field_validator("turn_urls", mode="before")(_one_or_many)

    @field_validator("turn_urls")
    @classmethod
    def _turn_only(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not check_url(url).startswith("turn"):
                raise ValueError(f"{url!r} is not a TURN URL (turn: or turns:)")
        return urls

    @model_validator(mode="after")
    def _consistent(self) -> WebRtcSettings:
        if self.turn_urls and len(self.turn_secret) < 16:
            raise ValueError("webrtc.turn_urls needs webrtc.turn_secret (16+ characters)")
        if self.turn_secret and not self.turn_urls:
            raise ValueError("webrtc.turn_secret is set but webrtc.turn_urls is empty")
        if self.ice_transport_policy == "relay" and not self.has_turn:
            raise ValueError(
                'webrtc.ice_transport_policy = "relay" needs a TURN server '
                "(webrtc.turn_urls, or a turn: URL in webrtc.ice_servers)"
            )
        return self

    @property
    def has_turn(self) -> bool:
        return bool(self.turn_urls) or any(
            url.startswith("turn") for s in self.ice_servers for url in s.urls
        )


class IceServers:
    """ICE configuration per join: the fixed servers plus TURN credentials minted for the
    principal who joins (and for the server's own peer of that join)."""

    def __init__(self, settings: WebRtcSettings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._fixed = tuple(
            IceServer(tuple(s.urls), s.username, s.credential) for s in settings.ice_servers
        )
        self.turn_problem: str | None = None  # the last probe's finding
        self._probed = -1e9

    @property
    def policy(self) -> IcePolicy:
        return self._settings.ice_transport_policy

    def for_principal(self, principal: str) -> IceConfig:
        s = self._settings
        turn: IceServer | None = None
        if s.turn_urls:
            username, credential = turn_credentials(
                s.turn_secret, principal, s.turn_ttl, self._clock()
            )
            turn = IceServer(tuple(s.turn_urls), username, credential)
        fixed_turn = next((server for server in self._fixed if server.is_turn), None)
        servers = self._fixed + ((turn,) if turn else ())
        return IceConfig(servers, s.ice_transport_policy, turn or fixed_turn)

    async def probe(self) -> str | None:
        """Check the TURN server once (at start): log what is wrong, remember it for joins."""
        turn = self.for_principal("podium-probe").turn
        if turn is None:
            return None
        self.turn_problem = await probe_turn(turn)
        self._probed = self._clock()
        if self.turn_problem:
            log.warning("TURN server not usable: %s", self.turn_problem)
        else:
            log.info("TURN server %s allocates relays", turn.urls[0])
        return self.turn_problem

    async def why_no_relay(self) -> str:
        """Why a join got no relay candidate: the TURN server probed now (at most every
        30 s), so the reason is current and a burst of failing joins probes once."""
        if self._clock() - self._probed > 30:
            await self.probe()
        return self.turn_problem or "the TURN server allocated no relay in time"
