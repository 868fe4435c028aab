"""A turn's delivered text → its task's updates, at a bounded rate.

Every update is an A2A event: the SDK copies it into the task, saves it and sends it to every
subscriber, and a debate relays it again into the moderator's task. Word by word that is a few
events a second per voice and dozens for an unpaced brain. When a client follows the turn as it
goes (``agents.turn.mark_followed``), the first text goes out at once (the first chunk's
latency is what it feels); otherwise (a blocking ``SendMessage`` waits for the whole task)
the first text waits like the rest. After
it, what is delivered within ``every`` seconds of the last update is joined into the next.
Each delivery says how long: an unpaced text turn ten updates a second; a turn on a speaking
clock (a voice, a text debate's words per minute) word by word, since a debate's rivals bid
on what they hear.
Pure, with a clock.
"""

from __future__ import annotations

from collections.abc import Callable

EVERY = 0.1  # seconds: the most a delivered word waits before its task shows it


class Coalescer:
    def __init__(
        self, clock: Callable[[], float], every: float = EVERY, first_at_once: bool = True
    ) -> None:
        self._clock = clock
        self._every = every
        self._held: list[str] = []
        # Not at once: as if an update had just gone out when the turn began.
        self._last: float | None = None if first_at_once else clock()
        self.sent = 0  # updates given out

    def push(self, chunk: str) -> str | None:
        """Adds delivered text; returns the text to send now, if any."""
        self._held.append(chunk)
        if self._last is not None and self._clock() - self._last < self._every:
            return None
        return self.take()

    def take(self) -> str | None:
        """Everything held, to send now (None when nothing is)."""
        text, self._held = "".join(self._held), []
        if not text:
            return None
        self._last = self._clock()
        self.sent += 1
        return text
