"""A remote A2A agent used as a brain: its card is fetched, its answer is voiced locally and
its progress notes are shown, not voiced (:mod:`agents.brains.remote_reply`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
from a2a.client import A2AClientError, Client, ClientConfig, ClientFactory
from a2a.types import a2a_pb2 as pb

from agents.brains.brain import BrainError, BrainRequest, Said
from agents.brains.remote_reply import RemoteReply


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

    async def stream(self, request: BrainRequest) -> AsyncIterator[Said]:
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
        reply = RemoteReply()
        try:
            async for response in client.send_message(pb.SendMessageRequest(message=message)):
                for item in reply.take(response):
                    yield item
                if reply.failure is not None:
                    raise BrainError(f"remote agent {self._url} ended its task: {reply.failure}")
        except (A2AClientError, httpx.HTTPError) as error:
            raise BrainError(f"remote agent {self._url} failed: {error}") from error
        for item in reply.finish():
            yield item

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        await self._http.aclose()
