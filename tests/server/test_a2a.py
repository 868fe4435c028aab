"""A2A surfaces over real sockets with the real a2a-sdk client: discover, send, stream, cancel,
get, list, resubscribe, in 1.0 JSON-RPC, REST and 0.3 compatibility."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from a2a.types import a2a_pb2 as pb

from agents.persona import BrainSpec, StreamMode
from clients.a2a import (
    chunk_text,
    fetch_card,
    final_state,
    make_client,
    only_interfaces,
    text_of,
    user_message,
)
from server.settings import Settings
from tests.serving import serve_podium

COMPLETED = pb.TaskState.TASK_STATE_COMPLETED


async def test_directory_and_cards(podium: str) -> None:
    async with httpx.AsyncClient() as http:
        directory = (await http.get(f"{podium}/agents")).json()
        assert [c["name"] for c in directory] == ["Mei", "Shuai"]
        for card in directory:
            name = card["podium"]["name"]
            assert {i["url"] for i in card["supportedInterfaces"]} == {f"{podium}/agents/{name}"}
            assert card["capabilities"]["streaming"] is True
            assert card["skills"], "skills come from the persona"
            for path in ("agent-card.json", "agent.json"):
                served = (await http.get(f"{podium}/agents/{name}/.well-known/{path}")).json()
                assert served["name"] == card["name"]
            # The agent's own URL answers its card too, as gateways' directories expect.
            direct = await http.get(f"{podium}/agents/{name}")
            assert direct.status_code == 200
            assert (
                direct.json()
                == (await http.get(f"{podium}/agents/{name}/.well-known/agent-card.json")).json()
            )
        root = await fetch_card(http, podium)
        assert root.name == "Moderator"
        assert root.supported_interfaces[0].url == podium
        unknown = await http.get(f"{podium}/agents/nobody/.well-known/agent-card.json")
        assert unknown.status_code == 404
        nobody = await http.get(f"{podium}/agents/nobody")
        assert nobody.status_code == 404 and "unknown agent" in nobody.json()["error"]["message"]


@pytest.mark.parametrize(
    ("binding", "version"),
    [("JSONRPC", "1.0"), ("HTTP+JSON", "1.0"), ("JSONRPC", "0.3"), ("HTTP+JSON", "0.3")],
)
async def test_stream_then_get_and_list(podium: str, binding: str, version: str) -> None:
    async with httpx.AsyncClient() as http:
        card = only_interfaces(await fetch_card(http, f"{podium}/agents/shuai"), binding, version)
        client = make_client(http, card, binding)
        responses = [r async for r in client.send_message(user_message("What does the data say?"))]
        streamed = "".join(chunk_text(r) for r in responses)
        chunks = [r for r in responses if r.HasField("artifact_update")]
        assert len(chunks) >= 2, "text streams: the first words come before the rest"
        assert final_state(responses) == COMPLETED
        task_id = next(r.status_update.task_id for r in responses if r.HasField("status_update"))
        task = await client.get_task(pb.GetTaskRequest(id=task_id))
        assert task.status.state == COMPLETED
        assert text_of(task) == streamed and len(streamed.split()) > 10
        if version == "1.0":
            listed = await client.list_tasks(pb.ListTasksRequest(include_artifacts=True))
            assert task_id in [t.id for t in listed.tasks]


async def test_send_message_returns_finished_task(podium: str) -> None:
    async with httpx.AsyncClient() as http:
        card = await fetch_card(http, f"{podium}/agents/mei")
        client = make_client(http, card, streaming=False)
        [response] = [r async for r in client.send_message(user_message("Tell me a story"))]
        assert response.task.status.state == COMPLETED
        assert response.task.artifacts[0].metadata["speaker"] == "mei"
        assert len(text_of(response.task).split()) > 10


async def test_message_stream_mode(tmp_path: Path) -> None:

    debaters = [
        d.model_copy(update={"stream_mode": StreamMode.MESSAGE}) for d in Settings().debaters
    ]
    with serve_podium(tmp_path, debaters=debaters) as url:
        async with httpx.AsyncClient() as http:
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
            responses = [r async for r in client.send_message(user_message("hello"))]
            messages = [
                r
                for r in responses
                if r.HasField("status_update") and r.status_update.status.message.parts
            ]
            assert len(messages) >= 2, "the first words come before the rest"
            assert not any(r.HasField("artifact_update") for r in responses[:-2])
            task = await client.get_task(pb.GetTaskRequest(id=messages[0].status_update.task_id))
            assert text_of(task) == "".join(chunk_text(r) for r in messages)


async def test_cancel_mid_stream_and_resubscribe(tmp_path: Path) -> None:
    with serve_podium(tmp_path, brain=BrainSpec(words_per_second=20)) as url:
        async with httpx.AsyncClient() as http:
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
            stream = client.send_message(user_message("Imagine a city without cars"))
            first = [await anext(stream) for _ in range(3)]
            task_id = next(r.status_update.task_id or r.task.id for r in first)
            # A second client resubscribes to the running task.
            watcher = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
            resubscribed: list[pb.StreamResponse] = []
            heard_live = asyncio.Event()

            async def watch() -> None:
                async for r in watcher.subscribe(pb.SubscribeToTaskRequest(id=task_id)):
                    resubscribed.append(r)
                    if chunk_text(r):
                        heard_live.set()

            watching = asyncio.create_task(watch())
            await asyncio.wait_for(heard_live.wait(), 10)  # the resubscriber follows live text
            await stream.aclose()  # the first client goes away: the task must keep running
            running = await client.get_task(pb.GetTaskRequest(id=task_id))
            assert running.status.state == pb.TaskState.TASK_STATE_WORKING
            canceled = await client.cancel_task(pb.CancelTaskRequest(id=task_id))
            assert canceled.status.state == pb.TaskState.TASK_STATE_CANCELED
            await asyncio.wait_for(watching, 5)
            assert any(chunk_text(r) for r in resubscribed), "resubscriber saw live text"
            stored = await client.get_task(pb.GetTaskRequest(id=task_id))
            assert stored.status.state == pb.TaskState.TASK_STATE_CANCELED
            words = text_of(stored).split()
            assert 0 < len(words) < 25, "generation stopped partway"
            again = await client.get_task(pb.GetTaskRequest(id=task_id))
            assert text_of(again) == text_of(stored), "no text after cancel"


async def test_follow_ups_keep_the_context(podium: str) -> None:
    async with httpx.AsyncClient() as http:
        card = await fetch_card(http, f"{podium}/agents/shuai")
        client = make_client(http, card, streaming=False)
        [first] = [r async for r in client.send_message(user_message("Is remote work efficient?"))]
        context_id = first.task.context_id
        again = user_message("And the costs?", context_id=context_id)
        [by_context] = [r async for r in client.send_message(again)]
        assert by_context.task.context_id == context_id
        [by_task] = [
            r async for r in client.send_message(user_message("Why?", task_id=first.task.id))
        ]
        assert by_task.task.context_id == context_id
        assert by_task.task.id != first.task.id
        assert list(by_task.task.history[0].reference_task_ids) == [first.task.id]
        listed = await client.list_tasks(pb.ListTasksRequest(context_id=context_id))
        assert len(listed.tasks) == 3


async def test_protocol_errors(podium: str) -> None:
    rpc = f"{podium}/agents/mei"
    headers = {"A2A-Version": "1.0"}
    async with httpx.AsyncClient() as http:
        bad_json = await http.post(rpc, content=b"{nope", headers=headers)
        assert bad_json.json()["error"]["code"] == -32700
        not_rpc = await http.post(rpc, json={"hello": 1}, headers=headers)
        assert not_rpc.json()["error"]["code"] == -32600
        unknown = await http.post(
            rpc, json={"jsonrpc": "2.0", "id": 1, "method": "Nope", "params": {}}, headers=headers
        )
        assert unknown.json()["error"]["code"] == -32601
        bad_params = await http.post(
            rpc,
            json={"jsonrpc": "2.0", "id": 2, "method": "SendMessage", "params": {"message": 5}},
            headers=headers,
        )
        assert bad_params.json()["error"]["code"] == -32602
        missing = await http.post(
            rpc,
            json={"jsonrpc": "2.0", "id": 3, "method": "GetTask", "params": {"id": "nope"}},
            headers=headers,
        )
        assert missing.json()["error"]["code"] == -32001
        legacy = await http.post(
            rpc, json={"jsonrpc": "2.0", "id": 4, "method": "tasks/get", "params": {"id": "nope"}}
        )
        assert legacy.json()["error"]["code"] == -32001
        streamed = await http.post(
            rpc,
            json={"jsonrpc": "2.0", "id": 5, "method": "SubscribeToTask", "params": {"id": "nope"}},
            headers=headers,
        )
        assert streamed.headers["content-type"].startswith("text/event-stream")
        assert "-32001" in streamed.text
        huge = await http.post(rpc, content=b"x" * 2_000_000, headers=headers)
        assert huge.status_code == 413
        assert huge.json()["error"]["code"] == -32600
        rest_missing = await http.get(f"{podium}/agents/mei/tasks/nope", headers=headers)
        assert rest_missing.status_code == 404
        assert (await http.post(f"{podium}/agents/nobody", json={})).status_code in (404, 405)
        # The server still serves everyone after all that.
        assert (await http.get(f"{podium}/healthz")).json()["status"] == "ok"
