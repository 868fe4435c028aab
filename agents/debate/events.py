"""What a debate reports on its moderator task: typed events, carried as status metadata.

Every event is a ``working`` status update whose metadata is ``to_metadata()``
(``{"event": "turn_started", "speaker": ..., "turn_task_id": ...}``: the keys A2A clients
read). ``from_status`` reads one back from a task event (None for anything else).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from agents import podium_meta


@dataclass(frozen=True)
class _Event:
    name: ClassVar[str]

    def to_metadata(self) -> dict[str, Any]:
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return {"event": self.name, **{k: v for k, v in fields.items() if v is not None}}


@dataclass(frozen=True)
class DebateStarted(_Event):
    name: ClassVar[str] = "debate_started"
    topic: str
    speakers: tuple[str, ...]


@dataclass(frozen=True)
class TurnStarted(_Event):
    name: ClassVar[str] = "turn_started"
    speaker: str
    turn_task_id: str


@dataclass(frozen=True)
class TurnProgressed(_Event):
    name: ClassVar[str] = "progress"
    speaker: str
    turn_task_id: str
    text: str


@dataclass(frozen=True)
class TurnEnded(_Event):
    name: ClassVar[str] = "turn_ended"
    speaker: str
    turn_task_id: str
    state: str  # completed, canceled, failed, rejected
    note: str | None = None  # the turn's final status message (why it failed, ...)
    by: str | None = None  # who cut it


@dataclass(frozen=True)
class BidMade(_Event):
    name: ClassVar[str] = "bid"
    agent: str
    over: str
    urgency: float
    granted: bool
    reason: str


@dataclass(frozen=True)
class Routed(_Event):
    name: ClassVar[str] = "routed"
    agent: str
    reason: str


@dataclass(frozen=True)
class DebateFinished(_Event):
    name: ClassVar[str] = "debate_finished"


DebateEvent = (
    DebateStarted | TurnStarted | TurnProgressed | TurnEnded | BidMade | Routed | DebateFinished
)
_BY_NAME: dict[str, type[_Event]] = {
    cls.name: cls
    for cls in (
        DebateStarted,
        TurnStarted,
        TurnProgressed,
        TurnEnded,
        BidMade,
        Routed,
        DebateFinished,
    )
}


def from_status(event: Any) -> DebateEvent | None:
    """The debate event a task event carries (None: not one, or not well formed)."""
    meta = podium_meta.of_status(event)
    cls = _BY_NAME.get(str(meta.get("event")))
    if cls is None:
        return None
    try:
        match cls.name:
            case "debate_started":
                return DebateStarted(str(meta["topic"]), tuple(map(str, meta["speakers"])))
            case "turn_started":
                return TurnStarted(str(meta["speaker"]), str(meta["turn_task_id"]))
            case "progress":
                return TurnProgressed(
                    str(meta["speaker"]), str(meta["turn_task_id"]), str(meta["text"])
                )
            case "turn_ended":
                return TurnEnded(
                    str(meta["speaker"]),
                    str(meta["turn_task_id"]),
                    str(meta["state"]),
                    _text(meta.get("note")),
                    _text(meta.get("by")),
                )
            case "bid":
                return BidMade(
                    str(meta["agent"]),
                    str(meta["over"]),
                    float(meta["urgency"]),
                    bool(meta["granted"]),
                    str(meta["reason"]),
                )
            case "routed":
                return Routed(str(meta["agent"]), str(meta["reason"]))
            case _:
                return DebateFinished()
    except (KeyError, TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
