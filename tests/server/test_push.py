"""Push notifications to a local webhook receiver over loopback, set with the a2a-sdk client:
delivered in order with the client's token, retried when the receiver fails, and webhook
URLs that point inside the network refused unless allowed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.server.context import ServerCallContext
from a2a.server.tasks import InMemoryPushNotificationConfigStore
from a2a.types import a2a_pb2 as pb
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clients.a2a import fetch_card, make_client, user_message
from server.api.push import CachedConfigs
from server.settings import PushSettings
from tests.serving import serve_app, serve_podium


@dataclass
class Receiver:
    url: str
    failures: int = 0  # answers 503 to this many requests first
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    refused: int = 0
    finished: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def note(self, headers: dict[str, str], body: dict[str, Any]) -> None:
        self.received.append((headers, body))
        state = body.get("statusUpdate", {}).get("status", {}).get("state", "")
        if state == "TASK_STATE_COMPLETED" and self.finished and self.loop:
            self.loop.call_soon_threadsafe(self.finished.set)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    state = Receiver(url="")

    @app.post("/hook")
    async def hook(request: Request) -> JSONResponse:
        if state.refused < state.failures:
            state.refused += 1
            return JSONResponse({"busy": True}, status_code=503, headers={"Retry-After": "0"})
        state.note(dict(request.headers), await request.json())
        return JSONResponse({"ok": True})

    with serve_app(app) as url:
        state.url = f"{url}/hook"
        yield state


def pushed_message(text: str, url: str, token: str) -> pb.SendMessageRequest:
    request = user_message(text)
    request.configuration.task_push_notification_config.CopyFrom(
        pb.TaskPushNotificationConfig(url=url, token=token)
    )
    return request


async def test_notifications_reach_the_webhook_in_order_despite_failures(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.failures = 2
    receiver.finished = asyncio.Event()
    receiver.loop = asyncio.get_running_loop()
    settings = PushSettings(allow_private_urls=True)
    with serve_podium(tmp_path / "data", push=settings) as url:
        async with httpx.AsyncClient(timeout=10) as http:
            card = await fetch_card(http, f"{url}/agents/mei")
            assert card.capabilities.push_notifications
            client = make_client(http, card, streaming=False)
            request = pushed_message("Should we plant more trees?", receiver.url, "secret-123")
            responses = [r async for r in client.send_message(request)]
            task = responses[-1].task
            await asyncio.wait_for(receiver.finished.wait(), 20)
    assert receiver.refused == 2, "the first tries failed and were retried"
    assert all(h.get("x-a2a-notification-token") == "secret-123" for h, _ in receiver.received)
    tasks = {
        body["task"]["id"] if "task" in body else next(iter(body.values()))["taskId"]
        for _, body in receiver.received
    }
    assert tasks == {task.id}
    text = "".join(
        part.get("text", "")
        for _, body in receiver.received
        for part in body.get("artifactUpdate", {}).get("artifact", {}).get("parts", [])
    )
    assert text.strip() == "".join(p.text for a in task.artifacts for p in a.parts).strip()
    states = [
        body["statusUpdate"]["status"]["state"]
        for _, body in receiver.received
        if "statusUpdate" in body
    ]
    assert states[-1] == "TASK_STATE_COMPLETED"


PRIVATE = "private, loopback or link-local address"


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://127.0.0.1:9/hook", PRIVATE),
        ("http://localhost/hook", PRIVATE),
        ("http://169.254.169.254/latest/meta-data", PRIVATE),
        ("http://10.0.0.8/hook", PRIVATE),
        ("http://[::1]/hook", PRIVATE),
        ("file:///etc/passwd", "scheme 'file' is not http or https"),
        ("ftp://example.com/hook", "scheme 'ftp' is not http or https"),
        ("http://no-such-host.invalid/hook", "could not resolve host 'no-such-host.invalid'"),
    ],
)
async def test_webhooks_inside_the_network_are_refused_saying_why(
    podium: str, target: str, why: str
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        card = await fetch_card(http, f"{podium}/agents/mei")
        client = make_client(http, card, streaming=False)
        with pytest.raises(Exception, match="Invalid push notification URL") as refused:
            _ = [r async for r in client.send_message(pushed_message("Hi", target, "t"))]
        assert why in str(refused.value)
        # Nothing was started for a refused request.
        assert not (await client.list_tasks(pb.ListTasksRequest())).tasks


class CountingStore(InMemoryPushNotificationConfigStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_info_for_dispatch(self, task_id: str) -> list[pb.TaskPushNotificationConfig]:
        self.reads += 1
        return await super().get_info_for_dispatch(task_id)


async def test_configs_are_not_read_per_event() -> None:
    store = CountingStore()
    only_writer = CachedConfigs(store, ttl=None)
    for _ in range(100):  # a task nobody asked notifications of: never read
        assert await only_writer.get_info_for_dispatch("t1") == []
    assert store.reads == 0
    config = pb.TaskPushNotificationConfig(task_id="t2", id="c", url="https://hooks.example/x")
    await only_writer.set_info("t2", config, ServerCallContext())
    for _ in range(100):
        assert [c.url for c in await only_writer.get_info_for_dispatch("t2")] == [config.url]
    assert store.reads == 1, "read once, when it was set"
    await only_writer.delete_info("t2", ServerCallContext(), "c")
    assert await only_writer.get_info_for_dispatch("t2") == []

    shared = CachedConfigs(store, ttl=60.0)  # replicas: another may have set one
    assert await shared.get_info_for_dispatch("t3") == []
    assert await shared.get_info_for_dispatch("t3") == []
    assert store.reads == 3
