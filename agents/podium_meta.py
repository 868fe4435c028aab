"""Podium's own fields in A2A metadata: the one place that reads and checks them.

- A message's ``podium`` object (``of_message``): rounds, speakers, cues... Checked when a
  message arrives, before any task exists (``problem``): a field of the wrong type is the
  client's mistake (JSON-RPC -32602 naming the field), not a task that fails or is rejected.
- A status update's metadata (``of_status``): a debate's events (``agents.debate.events``),
  a debater's progress note (``progress_note``), who cut a turn.
- The artifact a moderator task gives each debater turn (``turn_artifact_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from a2a.types import a2a_pb2 as pb
from google.protobuf.json_format import MessageToDict

KEY = "podium"  # the message metadata namespace for Podium's own fields
MAX_ROUNDS = 20
_TURN_ARTIFACT = "turn-"


def of_message(message: pb.Message | None) -> dict[str, Any]:
    """The ``podium`` object of a message's metadata (empty when absent or malformed)."""
    if message is None or not message.HasField("metadata"):
        return {}
    value = MessageToDict(message.metadata).get(KEY)
    return value if isinstance(value, dict) else {}


def of_status(event: Any) -> dict[str, Any]:
    """A status update's metadata (empty for any other event, or none)."""
    if not isinstance(event, pb.TaskStatusUpdateEvent) or not event.HasField("metadata"):
        return {}
    return dict(MessageToDict(event.metadata))


def progress_note(event: Any) -> str:
    """The progress note a debater's status update carries ("" for none): not its text."""
    note = of_status(event).get("progress")
    return note if isinstance(note, str) else ""


def turn_artifact_id(turn_task_id: str) -> str:
    """The artifact of a moderator task that holds one debater turn."""
    return _TURN_ARTIFACT + turn_task_id


def is_turn_artifact(artifact_id: str) -> bool:
    return artifact_id.startswith(_TURN_ARTIFACT)


def _whole(low: int, high: int | None = None) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        whole = number and value == int(value)
        return whole and value >= low and (high is None or value <= high)

    return check


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(n, str) for n in value)


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "rounds": (_whole(1, MAX_ROUNDS), f"a whole number from 1 to {MAX_ROUNDS}"),
    "speakers": (_names, "a list of debater names"),
    "wpm": (_number, "a number of words per minute, 0 or more"),
    "interruptions": (_whole(0, 50), "a whole number from 0 to 50"),
    "speaker": (_text, "a name"),
    "topic": (_text, "a text"),
    "debate": (_flag, "true or false"),
}


def problem(meta: Mapping[str, Any] | None) -> str | None:
    """What is wrong with a message's ``podium`` metadata, or None (unknown keys are kept
    for clients' own use; ``None`` values mean "the default")."""
    if meta is None:
        return None
    for name, (valid, expected) in FIELDS.items():
        value = meta.get(name)
        if value is not None and not valid(value):
            return f"metadata.podium.{name} must be {expected} (got {value!r:.40})"
    return None
