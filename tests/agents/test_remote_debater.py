"""A remote A2A debater's answer is voiced and stored; its progress notes are shown, not said.

The remote agents are built with the a2a-sdk and answer in the shapes agents in the wild use
(``tests.remote_agents``); Podium relays them through the real SDK client on loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from a2a.types import a2a_pb2 as pb

from agents.brains.brain import ProgressNoted
from agents.brains.remote_reply import RemoteReply
from agents.persona import BrainSpec
from clients.a2a import fetch_card, make_client, status_metadata, text_of, user_message
from clients.launch import free_port
from clients.rtc import EventLog
from server.settings import PersonaSettings, Settings
from tests.fakes import FakeSpeechToText, FakeTextToSpeech
from tests.remote_agents import ANSWER, NOTE, Shape, remote_agent
from tests.serving import serve_app, serve_podium


def _status(state: int, text: str = "") -> pb.StreamResponse:
    status = pb.TaskStatus(state=state)  # type: ignore[arg-type]
    if text:
        status.message.CopyFrom(pb.Message(parts=[pb.Part(text=text)]))
    return pb.StreamResponse(status_update=pb.TaskStatusUpdateEvent(status=status))


def _artifact(text: str) -> pb.StreamResponse:
    artifact = pb.Artifact(artifact_id="a", parts=[pb.Part(text=text)])
    return pb.StreamResponse(artifact_update=pb.TaskArtifactUpdateEvent(artifact=artifact))


WORKING = pb.TaskState.TASK_STATE_WORKING
DONE = pb.TaskState.TASK_STATE_COMPLETED


@pytest.mark.parametrize(
    ("responses", "answer", "notes"),
    [
        (
            [_status(WORKING, "Looking"), _artifact("Yes. "), _artifact("No."), _status(DONE)],
            "Yes. No.",
            ["Looking"],
        ),
        (
            [_status(WORKING, "Yes. "), _status(WORKING, "No."), _status(DONE)],
            "Yes. No.",
            ["Yes. ", "No."],
        ),
        ([_status(WORKING, "Looking"), _status(DONE, "Yes. No.")], "Yes. No.", ["Looking"]),
        ([_status(WORKING, "Yes."), _status(DONE, "Yes.")], "Yes.", ["Yes."]),
        ([pb.StreamResponse(message=pb.Message(parts=[pb.Part(text="Yes.")]))], "Yes.", []),
        (
            [_artifact("Yes."), _status(WORKING, "checking"), _status(DONE, "All done")],
            "Yes.",
            ["checking"],
        ),
        ([_status(WORKING), _status(DONE)], "", []),
    ],
    ids=[
        "note-artifact",
        "status-only",
        "note-final",
        "final-repeats",
        "message",
        "late-note",
        "silent",
    ],
)
def test_a_remote_reply_is_its_artifacts_or_else_its_messages(
    responses: list[pb.StreamResponse], answer: str, notes: list[str]
) -> None:
    reply = RemoteReply()
    said = [item for response in responses for item in reply.take(response)] + reply.finish()
    assert "".join(s for s in said if isinstance(s, str)) == answer
    assert [s.text for s in said if isinstance(s, ProgressNoted)] == notes
    assert reply.failure is None


def test_a_failed_remote_task_is_a_failure_not_an_answer() -> None:
    reply = RemoteReply()
    reply.take(_status(WORKING, "Looking"))
    reply.take(_status(pb.TaskState.TASK_STATE_FAILED, "quota exceeded"))
    assert reply.failure == "quota exceeded" and reply.finish() == []


def _guest(url: str) -> list[PersonaSettings]:
    guest = PersonaSettings(
        name="guest",
        display_name="Guest",
        description="A remote debater",
        temperament="analytical",
        brain=BrainSpec(kind="a2a", url=url),
    )
    return [*Settings().debaters, guest]


@pytest.mark.parametrize("shape", list(Shape), ids=[s.name.lower() for s in Shape])
async def test_a_remote_debater_answers_in_any_shape_and_notes_are_not_its_words(
    tmp_path: Path, shape: Shape
) -> None:
    port = free_port()
    remote = f"http://localhost:{port}"
    with (
        serve_app(remote_agent(shape, remote), port),
        serve_podium(tmp_path, debaters=_guest(remote)) as url,
    ):
        async with httpx.AsyncClient(timeout=20) as http:
            client = make_client(http, await fetch_card(http, f"{url}/agents/guest"))
            responses = [r async for r in client.send_message(user_message("Trams or buses?"))]
            notes = [status_metadata(r).get("progress") for r in responses]
            noted = [n for n in notes if n]
            if shape is Shape.STATUS_ONLY:  # shown as it came, voiced once the task ended
                assert "".join(noted) == ANSWER
            else:
                assert noted == ([NOTE] if "NOTE" in shape.name else [])
            task_id = next(r.task.id for r in responses if r.HasField("task"))
            task = await client.get_task(pb.GetTaskRequest(id=task_id))
            assert task.status.state == pb.TaskState.TASK_STATE_COMPLETED
            assert text_of(task) == ANSWER, "the stored turn is the answer, without the note"


async def test_a_voiced_remote_debater_shows_its_note_and_voices_only_its_answer(
    tmp_path: Path,
) -> None:
    port = free_port()
    remote = f"http://localhost:{port}"
    engines = (FakeSpeechToText(), FakeTextToSpeech(seconds_per_word=0.02))
    with (
        serve_app(remote_agent(Shape.NOTE_THEN_ARTIFACT, remote), port),
        serve_podium(tmp_path, engines=engines, debaters=_guest(remote)) as url,
    ):
        async with httpx.AsyncClient(timeout=20) as http:
            body = {"topic": "Trams", "agents": ["guest"]}
            room = (await http.post(f"{url}/rooms", json=body)).json()
            log = EventLog(http, url, room["id"])
            said = await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Guest?"})
            assert said.status_code == 202, said.text
            [progress] = await log.wait_for("progress_noted")
            [ended] = await log.wait_for("turn_ended")
            assert ended["state"] == "completed"
            assert (progress["agent"], progress["text"]) == ("guest", NOTE)
            played = "".join(e["text"] for e in log.of("words_played"))
            assert played.split() == ANSWER.split(), "the note is not voiced"
            await log.close()
