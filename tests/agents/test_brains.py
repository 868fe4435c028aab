"""Brains: the OpenAI-compatible backend against a local streaming server, the scripted demo
brain, and a remote A2A agent used as a debater's brain."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from a2a.types import a2a_pb2 as pb

from agents.brains.brain import BrainError, BrainRequest, Utterance
from agents.brains.openai_brain import OpenAIBrain
from agents.brains.scripted_brain import ScriptedBrain
from agents.persona import MEI, SHUAI, BrainSpec
from clients.a2a import fetch_card, make_client, status_metadata, text_of, user_message
from server.settings import PersonaSettings, Settings
from tests.fake_openai import FakeChat
from tests.serving import serve_app, serve_podium


@pytest.fixture
def fake_chat() -> FakeChat:
    return FakeChat()


async def test_openai_brain_streams_chunks(fake_chat: FakeChat) -> None:
    with serve_app(fake_chat.app) as url:
        brain = OpenAIBrain(model="tiny", base_url=f"{url}/v1", api_key="k")
        history = (Utterance("user", "Is it worth it?"), Utterance("mei", "People matter."))
        request = BrainRequest(persona=SHUAI, prompt="Answer Mei", history=history, topic="Trams")
        chunks = [c async for c in brain.stream(request)]
        await brain.aclose()
    assert len(chunks) > 3 and "".join(chunks) == fake_chat.reply
    sent = fake_chat.requests[0]["messages"]
    assert sent[0]["role"] == "system" and "Trams" in sent[0]["content"]
    assert {"role": "user", "content": "mei: People matter."} in sent


@pytest.mark.parametrize("mode", ["error", "drop"])
async def test_openai_brain_failure_mid_stream(fake_chat: FakeChat, mode: str) -> None:
    fake_chat.mode = mode
    with serve_app(fake_chat.app) as url:
        brain = OpenAIBrain(model="tiny", base_url=f"{url}/v1")
        got: list[str] = []
        with pytest.raises(BrainError):
            async for chunk in brain.stream(BrainRequest(persona=MEI, prompt="hi")):
                got.append(chunk)
        await brain.aclose()
    assert got, "chunks before the failure were streamed"


async def test_openai_backed_agent_fails_then_debate_goes_on(
    fake_chat: FakeChat, tmp_path: Path
) -> None:
    with serve_app(fake_chat.app) as chat_url:
        openai_brain = BrainSpec(kind="openai", model="tiny", base_url=f"{chat_url}/v1")
        debaters = [d.model_copy(update={"brain": openai_brain}) for d in Settings().debaters]
        with serve_podium(tmp_path, debaters=debaters) as url:
            async with httpx.AsyncClient() as http:
                mei = make_client(
                    http, await fetch_card(http, f"{url}/agents/mei"), streaming=False
                )
                [ok] = [r async for r in mei.send_message(user_message("Hello"))]
                assert text_of(ok.task) == fake_chat.reply
                context = ok.task.context_id
                follow = user_message("Say more", context_id=context)
                [again] = [r async for r in mei.send_message(follow)]
                history = fake_chat.requests[-1]["messages"]
                assert any(m["content"] == fake_chat.reply for m in history), "sees earlier turn"
                assert again.task.context_id == context

                fake_chat.mode = "error"
                [failed] = [r async for r in mei.send_message(user_message("Hello"))]
                assert failed.task.status.state == pb.TaskState.TASK_STATE_FAILED
                reason = "".join(p.text for p in failed.task.status.message.parts)
                assert "model overloaded" in reason

                # A debate with a failing backend: every turn fails, the debate still runs
                # through all its turns, and it ends failed with the reason.
                root = make_client(http, await fetch_card(http, url))
                debate = user_message("Trams", podium={"rounds": 1})
                events = [r async for r in root.send_message(debate)]
                ended = [
                    (m["speaker"], m["state"])
                    for m in map(status_metadata, events)
                    if m.get("event") == "turn_ended"
                ]
                assert ended == [("mei", "failed"), ("shuai", "failed")]
                last = events[-1].status_update.status
                assert last.state == pb.TaskState.TASK_STATE_FAILED
                said = "".join(p.text for p in last.message.parts)
                assert said.startswith("Every turn failed: mei: ") and "shuai: " in said
                assert "model overloaded" in said, "the reasons, not just the verdict"


def test_scripted_brain_is_deterministic_and_varied() -> None:
    brain = ScriptedBrain(seed=3, words_per_second=0)
    first = BrainRequest(persona=MEI, prompt="Trams", topic="Trams", context_id="c")
    assert brain.compose(first) == brain.compose(first)
    assert "Trams" in brain.compose(first)
    other = ScriptedBrain(seed=4, words_per_second=0)
    topics = ("Trams", "Homework", "Zoos", "Taxes on sugar", "Four-day weeks")
    requests = [BrainRequest(persona=MEI, prompt=t, topic=t, context_id="c") for t in topics]
    differing = sum(brain.compose(r) != other.compose(r) for r in requests)
    assert differing >= 3, "another seed gives other replies"
    history: tuple[Utterance, ...] = ()
    turns: list[str] = []
    for index in range(6):
        persona = (MEI, SHUAI)[index % 2]
        request = BrainRequest(
            persona=persona,
            prompt="Trams",
            topic="Trams",
            history=history,
            context_id="c",
            turn_index=index // 2,
        )
        text = brain.compose(request)
        turns.append(text)
        history = (*history, Utterance(persona.name, text))
    assert len(set(turns)) == 6, "no repeated turns"
    quoted = turns[1].split('"')[1]
    assert quoted in turns[0].lower(), "answers the opponent's last turn"


async def test_remote_a2a_agent_as_debater(tmp_path: Path) -> None:
    with serve_podium(tmp_path / "remote") as remote:
        guest = PersonaSettings(
            name="guest",
            display_name="Guest",
            description="A remote debater",
            temperament="analytical",
            brain=BrainSpec(kind="a2a", url=f"{remote}/agents/shuai"),
        )
        debaters = [*Settings().debaters, guest]
        with serve_podium(tmp_path / "local", debaters=debaters) as url:
            async with httpx.AsyncClient() as http:
                card = await fetch_card(http, f"{url}/agents/guest")
                client = make_client(http, card, streaming=False)
                [response] = [r async for r in client.send_message(user_message("Costs?"))]
                assert response.task.status.state == pb.TaskState.TASK_STATE_COMPLETED
                assert len(text_of(response.task).split()) > 10
                remote_client = make_client(
                    http, await fetch_card(http, f"{remote}/agents/shuai"), streaming=False
                )
                listed = await remote_client.list_tasks(pb.ListTasksRequest(include_artifacts=True))
                assert text_of(listed.tasks[0]) == text_of(response.task)
