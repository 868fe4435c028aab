"""Who is in a room: admission (one limit for every transport), WebRTC and WebSocket joins,
and leaving. Each participant gets the room's mix through its own ``PacedAudioTrack``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from aiortc.mediastreams import MediaStreamTrack

from media.outbound import PacedAudioTrack
from media.pcm import Pcm
from media.peer import PeerSession
from server.errors import Conflict


class RoomFull(Conflict):
    pass


@dataclass
class Participant:
    id: str
    name: str
    role: str  # "speaker" or "listener"
    track: PacedAudioTrack  # the room's mix, to this participant
    peer: PeerSession | None = None  # None for a WebSocket participant
    joined: float = field(default_factory=time.time)

    @property
    def transport(self) -> str:
        return "webrtc" if self.peer is not None else "websocket"

    def info(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role, "transport": self.transport}


Listen = Callable[[Participant, MediaStreamTrack], None]


class Participants:
    def __init__(self, room_id: str, limit: int, jitter_packets: int) -> None:
        self._room_id = room_id
        self._limit = limit
        self._jitter = jitter_packets
        self._by_id: dict[str, Participant] = {}

    def __iter__(self) -> Iterator[Participant]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, participant_id: str) -> Participant | None:
        return self._by_id.get(participant_id)

    def _admit(self, role: str, name: str | None) -> Participant:
        if len(self._by_id) >= self._limit:
            raise RoomFull(f"room {self._room_id} is full ({self._limit} participants)")
        participant_id = uuid.uuid4().hex[:12]
        return Participant(
            participant_id, name or f"{role}-{participant_id[:4]}", role, PacedAudioTrack()
        )

    async def join_webrtc(
        self,
        sdp: str,
        kind: str,
        role: str,
        name: str | None,
        listen: Listen,
        gone: Callable[[str], Awaitable[None]],
    ) -> tuple[Participant, str]:
        """Answers an SDP offer; returns the participant and the answer SDP."""
        participant = self._admit(role, name)

        def on_audio(track: MediaStreamTrack) -> None:
            listen(participant, track)

        async def on_gone() -> None:
            await gone(participant.id)

        peer = PeerSession(
            participant.track, self._jitter, on_audio if role == "speaker" else None, on_gone
        )
        participant.peer = peer
        answer = await peer.answer(sdp, kind)  # BadOffer: nothing was admitted
        self._by_id[participant.id] = participant
        return participant, answer

    def join_socket(
        self, role: str, name: str | None, inbound: MediaStreamTrack, listen: Listen
    ) -> Participant:
        participant = self._admit(role, name)
        self._by_id[participant.id] = participant
        if role == "speaker":
            listen(participant, inbound)
        return participant

    async def remove(self, participant_id: str) -> Participant | None:
        participant = self._by_id.pop(participant_id, None)
        if participant is None:
            return None
        participant.track.stop()
        if participant.peer is not None:
            await participant.peer.close()
        return participant

    def push(self, frame: Pcm) -> None:
        """One 20 ms frame of the mix to everyone."""
        for participant in self._by_id.values():
            participant.track.push(frame)
