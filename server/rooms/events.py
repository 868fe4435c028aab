"""Everything a room publishes: frozen, past-tense events, each serialized by ``to_json``.

SSE (``GET /rooms/{id}/events``) and WebSocket (``WS /rooms/{id}/ws``) subscribers get the
same JSON objects: ``{"type": ..., "room": ..., "t": ..., **fields}``. ``EVENT_TYPES`` is
the one list of types, served at ``GET /rooms/event-types`` for the page and other clients.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class RoomEvent:
    type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Subscribed(RoomEvent):
    """First event of every subscription: the room now, and its transcript so far."""

    info: dict[str, Any]  # as GET /rooms/{id}
    transcript: list[dict[str, Any]]  # recent events to replay (words merged per turn)


@dataclass(frozen=True)
class ParticipantJoined(RoomEvent):
    id: str
    name: str
    role: str
    transport: str


@dataclass(frozen=True)
class ParticipantLeft(RoomEvent):
    id: str
    name: str
    role: str
    transport: str


@dataclass(frozen=True)
class SpeechStarted(RoomEvent):
    who: str
    participant: str
    accepted: bool  # False: the echo guard or half duplex ignores it


@dataclass(frozen=True)
class SpeechStopped(RoomEvent):
    who: str
    participant: str
    duration: float


@dataclass(frozen=True)
class PartialTranscript(RoomEvent):
    who: str
    text: str


@dataclass(frozen=True)
class FinalTranscript(RoomEvent):
    who: str
    text: str  # "" when nothing was recognized
    typed: bool = False
    ignored: str | None = None  # "echo guard", "half duplex", "backchannel", "too short"


@dataclass(frozen=True)
class SentenceResumed(RoomEvent):
    """A person answered inside a pause went on: the next answer is to all of it
    (``server.rooms.resumption``)."""

    who: str
    text: str  # the whole sentence now answered


@dataclass(frozen=True)
class TurnStarted(RoomEvent):
    agent: str
    task_id: str


@dataclass(frozen=True)
class WordsPlayed(RoomEvent):
    agent: str
    task_id: str
    text: str


@dataclass(frozen=True)
class ProgressNoted(RoomEvent):
    """The speaking agent reported progress (a remote agent's note): shown, not voiced."""

    agent: str
    task_id: str
    text: str


@dataclass(frozen=True)
class TurnEnded(RoomEvent):
    agent: str
    task_id: str
    state: str  # "completed", "interrupted", "failed"


@dataclass(frozen=True)
class Ducked(RoomEvent):
    agent: str
    task_id: str
    by: str


@dataclass(frozen=True)
class Resumed(RoomEvent):
    agent: str
    task_id: str
    by: str
    reason: str  # "no words", "backchannel", "too short", "left"


@dataclass(frozen=True)
class Interrupted(RoomEvent):
    agent: str
    task_id: str
    by: str
    kind: str  # "human", "agent", "typed", "superseded", "closed"
    reason: str


@dataclass(frozen=True)
class BidMade(RoomEvent):
    agent: str
    over: str
    urgency: float
    granted: bool
    reason: str


@dataclass(frozen=True)
class DebateStarted(RoomEvent):
    task_id: str


@dataclass(frozen=True)
class DebateFinished(RoomEvent):
    task_id: str


@dataclass(frozen=True)
class EngineFailed(RoomEvent):
    stage: str  # "stt", "tts"
    message: str


@dataclass(frozen=True)
class RecordingStarted(RoomEvent):
    """The room is being recorded from now on (everyone in it is told)."""

    recording: str  # its id (GET /recordings/{id})


@dataclass(frozen=True)
class RecordingStopped(RoomEvent):
    recording: str
    state: str  # "finished", "failed"
    reason: str


@dataclass(frozen=True)
class RoomClosed(RoomEvent):
    pass


EVENT_TYPES: tuple[str, ...] = tuple(cls.type for cls in RoomEvent.__subclasses__())
