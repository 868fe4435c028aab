"""An agent as an A2A service: persona + brain + executor + the SDK's request handler + card.

The server mounts each service's routes; the moderator and the voice rooms call the same
handlers in-process, so every turn lands in the same task store with the same lifecycle.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from a2a.server.agent_execution import AgentExecutor
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import TaskStore
from a2a.types import a2a_pb2 as pb

from agents.persona import Persona

PROTOCOL_BINDINGS = ("JSONRPC", "HTTP+JSON")


def build_card(persona: Persona, url: str, version: str, brain_label: str) -> pb.AgentCard:
    """The agent card for ``persona`` served at ``url`` (absolute, no trailing slash)."""
    interfaces = [
        pb.AgentInterface(url=url, protocol_binding=binding, protocol_version=version_)
        for version_ in ("1.0", "0.3")
        for binding in PROTOCOL_BINDINGS
    ]
    skills = [
        pb.AgentSkill(
            id=skill.id,
            name=skill.name,
            description=skill.description,
            tags=list(skill.tags),
            examples=list(skill.examples),
        )
        for skill in persona.skills
    ]
    description = persona.description
    if brain_label == "scripted-demo":
        description += " (Offline demo brain: scripted, deterministic replies.)"
    return pb.AgentCard(
        name=persona.display_name,
        description=description,
        version=version,
        supported_interfaces=interfaces,
        provider=pb.AgentProvider(organization="Podium", url=url),
        capabilities=pb.AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=skills,
    )


def call_context() -> ServerCallContext:
    """The call context for in-process calls (same owner scope as anonymous HTTP callers)."""
    return ServerCallContext()


@dataclass
class AgentService:
    persona: Persona
    path: str  # "" for the root agent, "/agents/{name}" for debaters
    card: pb.AgentCard
    executor: AgentExecutor
    handler: DefaultRequestHandler
    store: TaskStore

    @property
    def name(self) -> str:
        return self.persona.name

    async def stream(
        self,
        text: str,
        context_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> AsyncIterator[Any]:
        """Sends ``text`` as a user message in-process and yields the task's events."""
        message = pb.Message(
            message_id=message_id or uuid.uuid4().hex,
            role=pb.Role.ROLE_USER,
            parts=[pb.Part(text=text)],
            context_id=context_id or "",
        )
        if metadata:
            message.metadata.update({"podium": metadata})
        request = pb.SendMessageRequest(message=message)
        async for event in self.handler.on_message_send_stream(request, call_context()):
            yield event

    async def get_task(self, task_id: str) -> pb.Task | None:
        return await self.store.get(task_id, call_context())

    async def cancel(self, task_id: str) -> pb.Task | None:
        return await self.handler.on_cancel_task(pb.CancelTaskRequest(id=task_id), call_context())


class AgentDirectory:
    """All agents of this server by name; the root (moderator) agent is kept apart."""

    def __init__(self, root: AgentService | None = None) -> None:
        self.root = root
        self._debaters: dict[str, AgentService] = {}

    def add(self, service: AgentService) -> None:
        self._debaters[service.name] = service

    def get(self, name: str) -> AgentService | None:
        if self.root is not None and name == self.root.name:
            return self.root
        return self._debaters.get(name.lower())

    @property
    def debaters(self) -> list[AgentService]:
        return list(self._debaters.values())

    def all(self) -> list[AgentService]:
        return ([self.root] if self.root else []) + self.debaters

    async def find_task(self, task_id: str) -> tuple[AgentService, pb.Task] | None:
        """The service that holds ``task_id`` and the task, or None."""
        for service in self.all():
            task = await service.get_task(task_id)
            if task is not None:
                return service, task
        return None
