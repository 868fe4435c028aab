"""The ``podium`` object a message's metadata may carry, and the types of its fields.

Checked when a message arrives, before any task exists: a field of the wrong type is the
client's mistake (JSON-RPC -32602 naming the field), not a task that fails or is rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

MAX_ROUNDS = 20


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
