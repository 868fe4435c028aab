"""A tiny SSE reader for tests (httpx streams)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass
class Event:
    data: str
    id: str | None = None
    event: str = "message"


async def read_events(response: httpx.Response, limit: int | None = None) -> list[Event]:
    events: list[Event] = []
    data: list[str] = []
    event_id: str | None = None
    kind = "message"
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line == "":
            if data:
                events.append(Event("\n".join(data), event_id, kind))
                if limit is not None and len(events) >= limit:
                    return events
            data, event_id, kind = [], None, "message"
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "id":
            event_id = value
        elif field == "event":
            kind = value
    return events
