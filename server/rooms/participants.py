"""Who is in a room: admission (speakers and listeners counted apart, the same limits for
every transport), WebRTC and WebSocket joins, and leaving. Each participant gets the room's
mix through its own paced track, fed by one ``Fanout`` (one encoding per distinct mix)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from aiortc.mediastreams import MediaStreamTrack

from media.fanout import Fanout, Tap
from media.ice import IceConfig
from media.mixer import MixFrame
from media.outbound import PacketTrack, PcmTrack
from media.peer import PeerSession
from server.http.errors import Conflict


class RoomFull(Conflict):
    pass


@dataclass
class Participant:
    id: str
    name: str
    role: str  # "speaker" or "listener"
    track: PacketTrack | PcmTrack  # the room's mix, to this participant
    peer: PeerSession | None = None  # None for a WebSocket participant
    joined: float = field(default_factory=time.time)

    @property
    def transport(self) -> str:
        return "webrtc" if self.peer is not None else "websocket"

    def info(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role, "transport": self.transport}


Listen = Callable[[Participant, MediaStreamTrack], None]


class Participants:
    def __init__(
        self, room_id: str, max_speakers: int, max_listeners: int, jitter_packets: int
    ) -> None:
        self._room_id = room_id
        self._limits = {"speaker": max_speakers, "listener": max_listeners}
        self._jitter = jitter_packets
        self._by_id: dict[str, Participant] = {}
        self._fanout = Fanout()

    def __iter__(self) -> Iterator[Participant]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def count(self, role: str) -> int:
        return sum(1 for p in self._by_id.values() if p.role == role)

    def _admit(self, role: str, name: str | None, track: PacketTrack | PcmTrack) -> Participant:
        limit = self._limits[role]
        if self.count(role) >= limit:
            raise RoomFull(f"room {self._room_id} is full ({limit} {role}s)")
        participant_id = uuid.uuid4().hex[:12]
        return Participant(participant_id, name or f"{role}-{participant_id[:4]}", role, track)

    def _seat(self, participant: Participant) -> None:
        self._by_id[participant.id] = participant
        person = participant.id if participant.role == "speaker" else None
        self._fanout.add(participant.id, participant.track, person)

    async def join_webrtc(
        self,
        sdp: str,
        kind: str,
        role: str,
        name: str | None,
        listen: Listen,
        gone: Callable[[str], Awaitable[None]],
        ice: IceConfig | None = None,
    ) -> tuple[Participant, str]:
        """Answers an SDP offer; returns the participant and the answer SDP."""
        participant = self._admit(role, name, PacketTrack())

        def on_audio(track: MediaStreamTrack) -> None:
            listen(participant, track)

        async def on_gone() -> None:
            await gone(participant.id)

        peer = PeerSession(
            participant.track,
            self._jitter,
            on_audio if role == "speaker" else None,
            on_gone,
            ice,
        )
        participant.peer = peer
        answer = await peer.answer(sdp, kind)  # BadOffer, NoRelay: nothing was admitted
        self._seat(participant)
        return participant, answer

    def join_socket(
        self, role: str, name: str | None, inbound: MediaStreamTrack, listen: Listen
    ) -> Participant:
        participant = self._admit(role, name, PcmTrack())
        self._seat(participant)
        if role == "speaker":
            listen(participant, inbound)
        return participant

    async def remove(self, participant_id: str) -> Participant | None:
        participant = self._by_id.pop(participant_id, None)
        if participant is None:
            return None
        self._fanout.remove(participant_id)
        participant.track.stop()
        if participant.peer is not None:
            await participant.peer.close()
        return participant

    def tap(self, key: str, sink: Tap) -> None:
        """``sink`` (a recording) gets everyone's Opus packet every tick, listened to or not."""
        self._fanout.tap(key, sink)

    def untap(self, key: str) -> None:
        self._fanout.untap(key)

    def send(self, frame: MixFrame, tick: int) -> None:
        """One 20 ms frame of the mix to everyone (each speaker without their own voice)."""
        self._fanout.send(frame, tick)

    def pacing(self) -> list[float]:
        """Seconds between the latest consecutive frames taken by each participant's sender."""
        return [float(v) for v in self._fanout.pacing()]
