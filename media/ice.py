"""ICE for the server's peers: which STUN/TURN servers they use, under which policy, and the
TURN REST credentials (coturn's ``use-auth-secret`` scheme) minted for each join.

With no servers configured a peer gathers host candidates only: aiortc's built-in public
STUN server is never used, so no join contacts a server nobody configured."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Literal

from aioice import stun, turn
from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.rtcicetransport import parse_stun_turn_uri

IcePolicy = Literal["all", "relay"]


@dataclass(frozen=True)
class IceServer:
    """One entry of ``iceServers``, as the browser's ``RTCPeerConnection`` takes it."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def as_json(self) -> dict[str, object]:
        entry: dict[str, object] = {"urls": list(self.urls)}
        if self.username is not None:
            entry["username"] = self.username
        if self.credential is not None:
            entry["credential"] = self.credential
        return entry

    @property
    def is_turn(self) -> bool:
        return any(url.startswith("turn") for url in self.urls)


@dataclass(frozen=True)
class IceConfig:
    """The servers and policy of one join (credentials minted for it included)."""

    servers: tuple[IceServer, ...] = ()
    policy: IcePolicy = "all"
    turn: IceServer | None = field(default=None, compare=False)

    def rtc_configuration(self) -> RTCConfiguration:
        """For aiortc: an explicit (possibly empty) list, never aiortc's default server."""
        servers = [
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in self.servers
        ]
        policy = RTCIceTransportPolicy.RELAY if self.policy == "relay" else None
        if policy is None:
            return RTCConfiguration(iceServers=servers)
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)

    def as_json(self) -> dict[str, object]:
        return {
            "ice_servers": [s.as_json() for s in self.servers],
            "ice_transport_policy": self.policy,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], policy: IcePolicy = "all") -> IceConfig:
        """What ``GET /rooms/{id}/ice-servers`` answers, for a client's own peer (whose
        policy is its own choice: ``relay`` to test a TURN path end to end)."""
        servers = tuple(
            IceServer(
                tuple([s["urls"]] if isinstance(s["urls"], str) else s["urls"]),
                s.get("username"),
                s.get("credential"),
            )
            for s in data.get("ice_servers", [])
        )
        return cls(servers, policy)


def check_url(url: str) -> str:
    """``url`` if it is a STUN/TURN URL the server's peers can use; else ValueError saying why."""
    if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
        raise ValueError(f"{url!r} is not a STUN or TURN URL (stun:, stuns:, turn:, turns:)")
    try:
        parsed = parse_stun_turn_uri(url)
    except ValueError as error:
        raise ValueError(f"{url!r}: {error} (expected e.g. turn:host:3478?transport=udp)") from None
    transport = parsed.get("transport")
    if parsed["scheme"] == "turn" and transport not in ("udp", "tcp"):
        raise ValueError(f"{url!r}: transport must be udp or tcp")
    if parsed["scheme"] == "turns" and transport != "tcp":
        raise ValueError(f"{url!r}: turns: runs over tcp")
    return url


def turn_credentials(secret: str, user: str, ttl: float, now: float) -> tuple[str, str]:
    """TURN REST API credentials: username ``<expiry>:<user>``, credential the base64
    HMAC-SHA1 of the username under the shared secret (what coturn's use-auth-secret checks)."""
    username = f"{int(now + ttl)}:{user.replace(':', '_')}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def relay_candidates(sdp: str) -> int:
    """How many relay candidates an SDP carries."""
    return sum(1 for line in sdp.splitlines() if "a=candidate:" in line and " typ relay" in line)


PROBE_SECONDS = 5.0


async def probe_turn(server: IceServer) -> str | None:
    """Allocate (and release) one relay on ``server``'s first usable TURN URL: None when it
    works, else why not (unreachable, credentials refused, ...)."""
    for url in server.urls:
        if not url.startswith("turn"):
            continue
        parsed = parse_stun_turn_uri(url)
        try:
            transport, _ = await asyncio.wait_for(
                turn.create_turn_endpoint(
                    asyncio.DatagramProtocol,
                    server_addr=(parsed["host"], parsed["port"]),
                    username=server.username,
                    password=server.credential,
                    ssl=parsed["scheme"] == "turns",
                    transport=parsed["transport"],
                ),
                PROBE_SECONDS,
            )
        except TimeoutError:
            return (
                f"{url}: no answer within {PROBE_SECONDS:g} s (unreachable, or a firewall drops it)"
            )
        except stun.TransactionFailed as error:
            code = error.response.attributes.get("ERROR-CODE", (0, ""))
            if code[0] == 401:
                return f"{url}: credentials refused (401): check webrtc.turn_secret"
            return f"{url}: refused the allocation ({code[0]} {code[1]})"
        except stun.TransactionTimeout:
            return f"{url}: no answer (unreachable, or a firewall drops it)"
        except ConnectionRefusedError:
            return f"{url}: no answer (nothing listens there: connection refused)"
        except (OSError, ConnectionError, ValueError) as error:
            return f"{url}: {error or type(error).__name__}"
        transport.close()
        return None
    return "no turn: URL"
