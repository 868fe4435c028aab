"""A room's event pub/sub: every subscriber gets the same JSON, after a snapshot.

Each event is serialized once and fanned out to bounded queues (a slow subscriber loses its
oldest events, never holds the room up). A subscription opens with ``Subscribed``: the room
as it is and its transcript so far, so a late joiner sees the turns before it came in and the
running turn's words played so far, without duplicates.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from server.rooms.events import (
    DebateFinished,
    DebateStarted,
    FinalTranscript,
    Interrupted,
    Resumed,
    RoomClosed,
    RoomEvent,
    Subscribed,
    TurnEnded,
    TurnStarted,
    WordsPlayed,
)

Json = dict[str, Any]
_KEPT = (
    FinalTranscript,
    TurnStarted,
    TurnEnded,
    Interrupted,
    Resumed,
    DebateStarted,
    DebateFinished,
)


class RoomTranscript:
    """The recent events a newcomer needs to draw the transcript (words merged per turn)."""

    def __init__(self, keep: int = 200) -> None:
        self._entries: deque[Json] = deque(maxlen=keep)
        self._words: dict[str, Json] = {}  # task id → its merged words entry

    def add(self, event: RoomEvent, data: Json) -> None:
        match event:
            case WordsPlayed(task_id=task_id, text=text):
                merged = self._words.get(task_id)
                if merged is not None and merged in self._entries:
                    merged["text"] += text
                else:
                    merged = dict(data)
                    self._words[task_id] = merged
                    self._entries.append(merged)
            case TurnEnded(task_id=task_id):
                self._words.pop(task_id, None)
                self._entries.append(data)
            case _ if isinstance(event, _KEPT):
                self._entries.append(data)

    def entries(self) -> list[Json]:
        return [dict(entry) for entry in self._entries]


class EventHub:
    def __init__(self, room_id: str, clock: Callable[[], float] = time.time) -> None:
        self._room_id = room_id
        self._clock = clock
        self._subscribers: set[asyncio.Queue[Json]] = set()
        self._listeners: dict[str, Callable[[Json], None]] = {}  # e.g. a recording
        self.transcript = RoomTranscript()
        self.closed = False

    def publish(self, event: RoomEvent) -> None:
        data = {**event.to_json(), "room": self._room_id, "t": round(self._clock(), 3)}
        self.transcript.add(event, data)
        if isinstance(event, RoomClosed):
            self.closed = True
        for listener in list(self._listeners.values()):
            listener(data)
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(data)

    def listen(self, key: str, listener: Callable[[Json], None]) -> None:
        """``listener`` gets every event's JSON as it is published, in the publisher's call."""
        self._listeners[key] = listener

    def unlisten(self, key: str) -> None:
        self._listeners.pop(key, None)

    async def subscribe(self, info: Callable[[], Json]) -> AsyncIterator[Json]:
        """The snapshot, then every event until the room closes."""
        queue: asyncio.Queue[Json] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        try:
            snapshot = Subscribed(info(), self.transcript.entries())
            yield {**snapshot.to_json(), "room": self._room_id, "t": round(self._clock(), 3)}
            if self.closed:
                return
            while True:
                data = await queue.get()
                yield data
                if data["type"] == RoomClosed.type:
                    return
        finally:
            self._subscribers.discard(queue)
