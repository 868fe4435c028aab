"""A participant's WebRTC peer connection (aiortc): answer the offer, send one paced track,
hand over the inbound audio track, report when the connection is gone.

The answer carries Opus only: the room sends the same Opus packets to everyone who hears
the same mix, so a peer that cannot take Opus (every browser can) is refused with a reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from media.decoding import decode_on_loop
from media.ice import IceConfig, relay_candidates
from media.inbound import set_jitter_depth

OPUS = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType == "audio/opus"]


class BadOffer(ValueError):
    """The SDP offer could not be answered; ``str(error)`` says why."""


class NoRelay(RuntimeError):
    """Relay-only ICE gathered no relay candidate: the TURN server did not allocate one."""


class PeerSession:
    def __init__(
        self,
        outbound: MediaStreamTrack,
        jitter_packets: int,
        on_audio: Callable[[MediaStreamTrack], None] | None,
        on_gone: Callable[[], Awaitable[None]],
        ice: IceConfig | None = None,
    ) -> None:
        """``on_audio`` gets the peer's audio track (None: a listener, nothing is taken);
        ``on_gone`` runs once the connection failed or closed; ``ice``: the STUN/TURN servers
        and policy (None: host candidates only)."""
        self._ice = ice or IceConfig()
        self.pc = RTCPeerConnection(self._ice.rtc_configuration())
        self._outbound = outbound
        pc = self.pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind != "audio" or on_audio is None:
                return
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track:
                    set_jitter_depth(transceiver.receiver, jitter_packets)
                    decode_on_loop(transceiver.receiver)
            on_audio(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await on_gone()

    async def answer(self, sdp: str, kind: str) -> str:
        """The answer SDP; raises ``BadOffer`` (and closes) when the offer is unusable, and
        ``NoRelay`` when relay-only ICE got no relay candidate (gathering is bounded: aioice
        gives a STUN/TURN server 5 s)."""
        try:
            transceiver = self.pc.addTransceiver(self._outbound, direction="sendrecv")
            transceiver.setCodecPreferences(OPUS)
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
            except Exception as error:
                if "send parameters" in str(error):
                    raise BadOffer("the offer has no Opus audio (Podium sends Opus)") from error
                raise
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except Exception as error:  # aiortc raises ValueError, TypeError, ... on bad SDP
            await self.pc.close()
            if isinstance(error, BadOffer):
                raise
            raise BadOffer(f"cannot answer this offer: {error}") from error
        answer = str(self.pc.localDescription.sdp)
        if self._ice.policy == "relay" and not relay_candidates(answer):
            await self.pc.close()
            raise NoRelay("the TURN server gave no relay address for this connection")
        return answer

    async def close(self) -> None:
        await self.pc.close()
