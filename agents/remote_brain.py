"""A remote A2A agent used as a brain: its card is fetched, its text stream is voiced locally."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
from a2a.client import A2AClientError, Client, ClientConfig, ClientFactory
from a2a.types import a2a_pb2 as pb

from agents.brain import BrainError, BrainRequest


def stream_text(response: pb.StreamResponse) -> str:
    """The new text a streamed A2A response carries (artifact chunk or status message)."""
    match response.WhichOneof("payload"):
        case "artifact_update":
            return "".join(p.text for p in response.artifact_update.artifact.parts)
        case "status_update":
            status = response.status_update.status
            if status.state != pb.TaskState.TASK_STATE_WORKING:
                return ""  # a final status message repeats text already streamed
            return "".join(p.text for p in status.message.parts)
        case "message":
            return "".join(p.text for p in response.message.parts)
    return ""


class RemoteA2ABrain:
    """Relays a turn to a remote A2A agent, keeping one remote context per local context."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.label = f"a2a:{url}"
        self._url = url
        self._http = httpx.AsyncClient(timeout=timeout)
        self._client: Client | None = None
        self._contexts: dict[str, str] = {}

    async def _connect(self) -> Client:
        if self._client is None:
            factory = ClientFactory(
                ClientConfig(
                    httpx_client=self._http,
                    streaming=True,
                    supported_protocol_bindings=["JSONRPC", "HTTP+JSON"],
                )
            )
            try:
                self._client = await factory.create_from_url(self._url)
            except (A2AClientError, httpx.HTTPError) as error:
                raise BrainError(f"remote agent {self._url} unreachable: {error}") from error
        return self._client

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        client = await self._connect()
        remote_context = self._contexts.setdefault(request.context_id, uuid.uuid4().hex)
        prompt = request.prompt
        other = request.last_from_others()
        if request.topic and other is not None:
            prompt = f"Debate topic: {request.topic}\n{other.speaker} said: {other.text}\n{prompt}"
        message = pb.Message(
            message_id=uuid.uuid4().hex,
            context_id=remote_context,
            role=pb.Role.ROLE_USER,
            parts=[pb.Part(text=prompt)],
        )
        try:
            async for response in client.send_message(pb.SendMessageRequest(message=message)):
                if response.WhichOneof("payload") == "task":
                    continue
                text = stream_text(response)
                if text:
                    yield text
                if response.WhichOneof("payload") == "status_update":
                    state = response.status_update.status.state
                    if state in (pb.TaskState.TASK_STATE_FAILED, pb.TaskState.TASK_STATE_REJECTED):
                        raise BrainError(f"remote agent {self._url} ended its task failed")
        except (A2AClientError, httpx.HTTPError) as error:
            raise BrainError(f"remote agent {self._url} failed: {error}") from error

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        await self._http.aclose()
