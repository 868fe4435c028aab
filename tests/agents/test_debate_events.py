"""Debate events: what the moderator writes on its task is what a follower reads back."""

from __future__ import annotations

from typing import Any

import pytest
from a2a.types import a2a_pb2 as pb
from google.protobuf.struct_pb2 import Struct

from agents import podium_meta
from agents.debate.events import (
    BidMade,
    DebateEvent,
    DebateFinished,
    DebateStarted,
    Routed,
    TurnEnded,
    TurnProgressed,
    TurnStarted,
    from_status,
)


def status(metadata: dict[str, Any]) -> pb.TaskStatusUpdateEvent:
    meta = Struct()
    meta.update(metadata)
    return pb.TaskStatusUpdateEvent(
        task_id="d1",
        status=pb.TaskStatus(state=pb.TaskState.TASK_STATE_WORKING),
        metadata=meta,
    )


EVENTS: list[DebateEvent] = [
    DebateStarted("Trams", ("mei", "shuai")),
    TurnStarted("mei", "t1"),
    TurnProgressed("mei", "t1", "looking it up"),
    TurnEnded("mei", "t1", "canceled", "interrupted by Shuai", "shuai"),
    TurnEnded("mei", "t2", "completed"),
    BidMade("shuai", "mei", 0.75, False, "min floor: speaker has held it 1.0s"),
    Routed("lin", "named"),
    DebateFinished(),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_reads_back_as_written(event: DebateEvent) -> None:
    metadata = event.to_metadata()
    assert metadata["event"] == event.name
    assert None not in metadata.values(), "absent fields are left out, not null"
    assert from_status(status(metadata)) == event


def test_the_wire_keys_clients_read_are_kept() -> None:
    assert TurnEnded("mei", "t1", "failed", "the backend is down").to_metadata() == {
        "event": "turn_ended",
        "speaker": "mei",
        "turn_task_id": "t1",
        "state": "failed",
        "note": "the backend is down",
    }
    assert DebateStarted("Trams", ("mei",)).to_metadata()["speakers"] == ["mei"]


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"event": "something_else"},
        {"event": "turn_started", "speaker": "mei"},  # no turn id
        {
            "event": "bid",
            "agent": "a",
            "over": "b",
            "urgency": "high",
            "granted": True,
            "reason": "",
        },
        {"progress": "a note, no event"},
    ],
)
def test_anything_else_is_no_debate_event(metadata: dict[str, Any]) -> None:
    assert from_status(status(metadata)) is None


def test_other_task_events_carry_no_debate_event() -> None:
    artifact = pb.TaskArtifactUpdateEvent(task_id="d1")
    assert from_status(artifact) is None
    assert podium_meta.progress_note(artifact) == ""
    assert podium_meta.progress_note(status({"progress": "searching"})) == "searching"


def test_turn_artifacts_are_named_for_their_turn() -> None:
    artifact_id = podium_meta.turn_artifact_id("t1")
    assert podium_meta.is_turn_artifact(artifact_id)
    assert not podium_meta.is_turn_artifact("t1-reply")
