"""Room events: one JSON shape per type, one list of types, and a snapshot for late joiners."""

from __future__ import annotations

import dataclasses

from server.rooms import events as ev
from server.rooms.event_hub import EventHub


def test_every_event_serializes_with_its_type_and_fields() -> None:
    classes = ev.RoomEvent.__subclasses__()
    assert [cls.type for cls in classes] == list(ev.EVENT_TYPES)
    assert len(set(ev.EVENT_TYPES)) == len(ev.EVENT_TYPES)
    for cls in classes:
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    words = ev.WordsPlayed("mei", "t1", "Trams ")
    assert words.to_json() == {
        "type": "words_played",
        "agent": "mei",
        "task_id": "t1",
        "text": "Trams ",
    }
    assert ev.FinalTranscript("Ann", "").to_json()["type"] == "final_transcript"


async def test_a_late_subscriber_gets_the_transcript_so_far_then_live_events() -> None:
    hub = EventHub("r1", clock=lambda: 12.5)
    hub.publish(ev.DebateStarted("d1"))
    hub.publish(ev.TurnStarted("mei", "t1"))
    for word in ("Trams ", "are ", "quiet. "):
        hub.publish(ev.WordsPlayed("mei", "t1", word))
    hub.publish(ev.TurnEnded("mei", "t1", "completed"))
    hub.publish(ev.FinalTranscript("Ann", "what about buses"))
    hub.publish(ev.TurnStarted("shuai", "t2"))
    hub.publish(ev.WordsPlayed("shuai", "t2", "Buses "))
    hub.publish(ev.Ducked("shuai", "t2", "Ann"))  # momentary: not part of the transcript

    events = hub.subscribe(lambda: {"id": "r1", "topic": "Trams"})
    snapshot = await anext(events)
    assert snapshot["type"] == "subscribed" and snapshot["info"]["topic"] == "Trams"
    assert snapshot["room"] == "r1" and snapshot["t"] == 12.5
    assert [(e["type"], e.get("text")) for e in snapshot["transcript"]] == [
        ("debate_started", None),
        ("turn_started", None),
        ("words_played", "Trams are quiet. "),
        ("turn_ended", None),
        ("final_transcript", "what about buses"),
        ("turn_started", None),
        ("words_played", "Buses "),
    ]
    hub.publish(ev.WordsPlayed("shuai", "t2", "run "))
    live = await anext(events)
    assert live["type"] == "words_played" and live["text"] == "run "
    again = await anext(hub.subscribe(dict))
    assert again["transcript"][-1]["text"] == "Buses run ", "the running turn so far"
    hub.publish(ev.RoomClosed())
    assert (await anext(events))["type"] == "room_closed"
    assert [e async for e in events] == []


async def test_a_slow_subscriber_loses_its_oldest_events_not_the_room() -> None:
    hub = EventHub("r1")
    events = hub.subscribe(dict)
    await anext(events)
    for index in range(1200):
        hub.publish(ev.PartialTranscript("Ann", str(index)))
    first = await anext(events)
    assert first["text"] == "200", "1000 kept, the oldest dropped"
