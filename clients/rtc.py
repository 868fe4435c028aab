"""A real aiortc peer that joins a Podium room over loopback, and an SSE event collector."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from aioice.stun import Class
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket
from av import AudioFrame

from media.ice import IceConfig
from media.inbound import set_jitter_depth


@dataclass
class Peer:
    pc: RTCPeerConnection
    participant_id: str
    received: list[np.ndarray] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() per frame
    sizes: list[int] = field(default_factory=list)  # payload bytes per packet (not decoding)
    reader: asyncio.Task[None] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def loud_frames(self, threshold: int = 500) -> int:
        return sum(1 for f in self.received if np.abs(f).max() > threshold)

    async def wait_loud(self, frames: int, timeout: float = 20, threshold: int = 500) -> None:  # noqa: ASYNC109
        """Waits until ``frames`` loud frames have arrived (raises TimeoutError otherwise)."""

        async def enough() -> None:
            while self.loud_frames(threshold) < frames:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)

    async def wait_until(self, moment: float, timeout: float = 20) -> None:  # noqa: ASYNC109
        """Waits until a frame that arrived after ``moment`` (time.monotonic) is in."""

        async def after() -> None:
            while not self.arrivals or self.arrivals[-1] < moment:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(after(), timeout)

    def first_loud_after(self, moment: float, threshold: int = 500) -> float | None:
        for frame, at in zip(self.received, self.arrivals, strict=True):
            if at >= moment and np.abs(frame).max() > threshold:
                return at
        return None

    async def connected(self, within: float = 20.0) -> None:
        """Waits until ICE and DTLS are up, so what the peer sends reaches the room; raises
        ``ConnectionError`` naming the ICE and DTLS states if they fail or take too long."""
        settled = asyncio.Event()

        def changed() -> None:
            if self.pc.connectionState in ("connected", "failed", "closed"):
                settled.set()

        self.pc.on("connectionstatechange", changed)
        changed()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(settled.wait(), within)
        self.pc.remove_listener("connectionstatechange", changed)
        if self.pc.connectionState != "connected":
            raise ConnectionError(
                f"peer {self.participant_id} did not connect within {within:.0f} s: {self.states()}"
            )

    def states(self) -> str:
        """The connection, ICE and DTLS states, as text (for a failure's message)."""
        senders = [t.sender for t in self.pc.getTransceivers()]
        dtls = [s.transport.state for s in senders if s.transport]
        return (
            f"connection {self.pc.connectionState}, ICE {self.pc.iceConnectionState}, DTLS {dtls}"
        )

    async def close(self) -> None:
        if self.reader:
            self.reader.cancel()
            await asyncio.wait({self.reader})  # (a cancel of the caller still propagates)
        await self.pc.close()

    def answer_late(self, seconds: float) -> None:
        """The link gets slow: this peer's answers to ICE checks leave ``seconds`` late (as
        over a satellite hop or a congested mobile link); its media is not held up."""
        loop = asyncio.get_running_loop()
        for transceiver in self.pc.getTransceivers():
            ice = transceiver.receiver.transport.transport
            for protocol in ice._connection._protocols:
                send = protocol.send_stun

                def late(
                    message: Any, addr: Any, send: Any = send, protocol: Any = protocol
                ) -> None:
                    if message.message_class != Class.RESPONSE:
                        send(message, addr)
                        return

                    def later() -> None:
                        if protocol.transport is not None:  # (not closed meanwhile)
                            send(message, addr)

                    loop.call_later(seconds, later)

                protocol.send_stun = late  # type: ignore[method-assign]

    def vanish(self) -> None:
        """The network drops away (no BYE, no DTLS close): nothing the peer sends arrives and
        nothing reaches it. Its sockets stay open, as a host's do when its network goes (a
        socket closed here would fail the peer's own later sends, which a gone network does
        not), and close with the peer."""
        for transceiver in self.pc.getTransceivers():
            ice = transceiver.receiver.transport.transport
            for protocol in ice._connection._protocols:
                protocol.transport = _Gone(protocol.transport)
                protocol.datagram_received = _dropped  # type: ignore[method-assign]


class _Gone(asyncio.DatagramTransport):
    """A socket whose network is gone: what is sent is lost; closing closes the socket."""

    def __init__(self, socket: asyncio.DatagramTransport) -> None:
        super().__init__()
        self._socket = socket

    def sendto(self, data: Any, addr: Any = None) -> None:
        return None

    def close(self) -> None:
        self._socket.close()

    def is_closing(self) -> bool:
        return self._socket.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._socket.get_extra_info(name, default)


def _dropped(data: bytes | str, addr: tuple[Any, ...]) -> None:
    return None  # arrived from a network that is gone: never heard


async def join(
    http: httpx.AsyncClient,
    base: str,
    room_id: str,
    role: str,
    track: MediaStreamTrack | None = None,
    name: str | None = None,
    jitter_packets: int = 1,
    decode: bool = True,
    relay: bool = False,
) -> Peer:
    """Joins over WebRTC, with the STUN/TURN servers the room hands out. ``decode=False``
    makes a listener that only notes when each packet arrives and its size (in ``arrivals``
    and ``sizes``): cheap enough to run by the dozen in one process. ``relay``: this peer
    uses relay candidates only (through the room's TURN server)."""
    servers = await http.get(f"{base}/rooms/{room_id}/ice-servers")
    servers.raise_for_status()
    ice = IceConfig.from_json(servers.json(), "relay" if relay else "all")
    pc = RTCPeerConnection(ice.rtc_configuration())
    if track is not None:
        pc.addTrack(track)
    else:
        pc.addTransceiver("audio", direction="recvonly")
    remote_tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    pc.on("track", lambda t: remote_tracks.put_nowait(t))
    await pc.setLocalDescription(await pc.createOffer())
    body = {"sdp": pc.localDescription.sdp, "type": "offer", "role": role, "name": name}
    answer = await http.post(f"{base}/rooms/{room_id}/offer", json=body)
    if answer.is_error:
        await pc.close()
        answer.raise_for_status()
    data = answer.json()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
    peer = Peer(pc, data["participant_id"])
    if not decode:
        _count_packets(pc, peer)
        return peer
    incoming = await asyncio.wait_for(remote_tracks.get(), 5)
    for transceiver in pc.getTransceivers():  # the client's own jitter buffer: 1 packet
        set_jitter_depth(transceiver.receiver, jitter_packets)

    async def read() -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await incoming.recv()
                assert isinstance(frame, AudioFrame)
                peer.received.append(frame.to_ndarray().reshape(-1))
                peer.arrivals.append(time.monotonic())
                peer.arrived.set()

    peer.reader = asyncio.create_task(read())
    return peer


def _count_packets(pc: RTCPeerConnection, peer: Peer) -> None:
    """Replaces each receiver's packet handler: arrivals are noted, nothing is decoded."""

    async def note(packet: RtpPacket, arrival_time_ms: int) -> None:
        peer.arrivals.append(time.monotonic())
        peer.sizes.append(len(packet.payload))
        peer.arrived.set()

    for transceiver in pc.getTransceivers():
        transceiver.receiver._handle_rtp_packet = note  # type: ignore[method-assign]


class EventLog:
    """Collects a room's SSE events in the background. The events the room had kept from
    before the subscription (the ``subscribed`` snapshot's transcript: turns begun, words
    played merged per turn, interruptions) follow ``subscribed``, marked ``replayed``, so
    waiting for a turn that started as the log connected does not miss it."""

    def __init__(self, http: httpx.AsyncClient, base: str, room_id: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._run(http, f"{base}/rooms/{room_id}/events"))

    async def _run(self, http: httpx.AsyncClient, url: str) -> None:
        async with http.stream("GET", url, timeout=None) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    self.events.append(event)
                    if event["type"] == "subscribed":  # what happened before, in order
                        self.events += [e | {"replayed": True} for e in event["transcript"]]
                    self._changed.set()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    async def wait_for(
        self,
        kind: str,
        count: int = 1,
        timeout: float = 30,  # noqa: ASYNC109
        **match: Any,
    ) -> list[dict[str, Any]]:
        async def done() -> list[dict[str, Any]]:
            while True:
                found = [e for e in self.of(kind) if all(e.get(k) == v for k, v in match.items())]
                if len(found) >= count:
                    return found
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(done(), timeout)

    async def wait_until(
        self,
        predicate: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 30,  # noqa: ASYNC109
    ) -> None:
        """Waits until ``predicate(events)`` holds."""

        async def done() -> None:
            while not predicate(self.events):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(done(), timeout)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.wait({self._task})  # (a cancel of the caller still propagates)
        if not self._task.cancelled():
            self._task.exception()  # the stream broke first (server gone): seen, not raised
