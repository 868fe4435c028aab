"""Small helpers around the real a2a-sdk client for tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.client.auth import AuthInterceptor, CredentialService
from a2a.client.client import ClientCallContext
from a2a.client.interceptors import ClientCallInterceptor
from a2a.types import a2a_pb2 as pb
from google.protobuf.json_format import MessageToDict


async def fetch_card(http: httpx.AsyncClient, base: str) -> pb.AgentCard:
    return await A2ACardResolver(http, base).get_agent_card()


def only_interfaces(card: pb.AgentCard, binding: str, version: str) -> pb.AgentCard:
    """A copy of ``card`` offering just one binding/version, to force a transport."""
    narrowed = pb.AgentCard()
    narrowed.CopyFrom(card)
    keep = [
        i
        for i in card.supported_interfaces
        if i.protocol_binding == binding and i.protocol_version == version
    ]
    del narrowed.supported_interfaces[:]
    narrowed.supported_interfaces.extend(keep)
    return narrowed


class BearerCredential(CredentialService):
    """One credential (an API key or token) for whatever scheme a card declares."""

    def __init__(self, credential: str) -> None:
        self._credential = credential

    async def get_credentials(
        self, security_scheme_name: str, context: ClientCallContext | None
    ) -> str | None:
        return self._credential


def make_client(
    http: httpx.AsyncClient,
    card: pb.AgentCard,
    binding: str = "JSONRPC",
    streaming: bool = True,
    credential: str | None = None,
) -> Client:
    """A client for ``card``; with ``credential``, the SDK's auth interceptor sends it as the
    card's security scheme asks (``Authorization: Bearer``)."""
    config = ClientConfig(
        httpx_client=http, streaming=streaming, supported_protocol_bindings=[binding]
    )
    interceptors: list[ClientCallInterceptor] | None = (
        [AuthInterceptor(BearerCredential(credential))] if credential else None
    )
    return ClientFactory(config).create(card, interceptors=interceptors)


def user_message(
    text: str, context_id: str = "", task_id: str = "", podium: dict[str, Any] | None = None
) -> pb.SendMessageRequest:
    message = pb.Message(
        message_id=uuid.uuid4().hex,
        role=pb.Role.ROLE_USER,
        parts=[pb.Part(text=text)],
        context_id=context_id,
        task_id=task_id,
    )
    if podium:
        message.metadata.update({"podium": podium})
    return pb.SendMessageRequest(message=message)


def text_of(task: pb.Task) -> str:
    return "".join(p.text for a in task.artifacts for p in a.parts)


def chunk_text(response: pb.StreamResponse) -> str:
    if response.HasField("artifact_update"):
        return "".join(p.text for p in response.artifact_update.artifact.parts)
    if response.HasField("status_update"):
        status = response.status_update.status
        if status.state == pb.TaskState.TASK_STATE_WORKING:
            return "".join(p.text for p in status.message.parts)
    return ""


def status_metadata(response: pb.StreamResponse) -> dict[str, Any]:
    """The metadata of a streamed status update ({} for other events)."""
    if not response.HasField("status_update"):
        return {}
    return dict(MessageToDict(response.status_update.metadata))


def final_state(responses: list[pb.StreamResponse]) -> int:
    for response in reversed(responses):
        if response.HasField("status_update"):
            return response.status_update.status.state
        if response.HasField("task"):
            return response.task.status.state
    raise AssertionError("no status in stream")


TERMINAL = {
    pb.TaskState.TASK_STATE_COMPLETED,
    pb.TaskState.TASK_STATE_FAILED,
    pb.TaskState.TASK_STATE_CANCELED,
    pb.TaskState.TASK_STATE_REJECTED,
}


async def settled_task(client: Client, task_id: str) -> pb.Task:
    """The task once it has reached a terminal state: follows its live stream while it runs
    (a task that already ended cannot be subscribed to; it is read as it is)."""
    try:
        async for _ in client.subscribe(pb.SubscribeToTaskRequest(id=task_id)):
            pass
    except Exception:  # the SDK refuses to subscribe to a task that has ended
        pass
    task = await client.get_task(pb.GetTaskRequest(id=task_id))
    if task.status.state not in TERMINAL:
        raise AssertionError(f"task {task_id} is still {task.status.state} after its stream")
    return task
