"""An agent as an A2A service: persona + brain + executor + the SDK's request handler + card.

The server mounts each service's routes; the moderator and the voice rooms call the same
handlers in-process, so every turn lands in the same task store with the same lifecycle.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, cast

from a2a.server.agent_execution import AgentExecutor
from a2a.server.cluster import StoredTask, VersionedTaskStore
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import TaskStore
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError, InternalError, InvalidParamsError
from google.protobuf.json_format import MessageToDict

from agents import podium_meta
from agents.audio_parts import Hearing, heard
from agents.owner import owner_context
from agents.persona import Persona
from agents.task_states import TERMINAL_STATES
from agents.turn import CancelReason, Turn, mark_followed, mark_new_context
from media.audio_message import AUDIO_TYPES
from media.spoken_reply import OGG, WAV

log = logging.getLogger(__name__)
PROTOCOL_BINDINGS = ("JSONRPC", "HTTP+JSON")


class PodiumRequestHandler(DefaultRequestHandler):
    """The SDK's handler, plus follow-ups to ended tasks and messages that speak.

    A message that names only the ``taskId`` of a task that already ended continues that
    task's conversation: it becomes a new task in the same ``contextId`` that refers back to
    the old one (``referenceTaskIds``), instead of an error about a terminal task. Audio parts
    are heard first (``agents.audio_parts``; ``hearing`` is set by the server).
    """

    hearing: Hearing | None = None

    async def _follow_up(
        self, params: pb.SendMessageRequest, context: ServerCallContext
    ) -> pb.SendMessageRequest:
        task_id = params.message.task_id
        if not task_id:
            return params
        found = await self.task_store.get(task_id, context)
        task = found.task if isinstance(found, StoredTask) else found
        if not isinstance(task, pb.Task) or task.status.state not in TERMINAL_STATES:
            return params
        if params.message.context_id and params.message.context_id != task.context_id:
            return params  # the SDK reports the mismatch
        rewritten = pb.SendMessageRequest()
        rewritten.CopyFrom(params)
        rewritten.message.context_id = task.context_id
        rewritten.message.task_id = ""
        if task_id not in rewritten.message.reference_task_ids:
            rewritten.message.reference_task_ids.append(task_id)
        return rewritten

    @staticmethod
    def _check(params: pb.SendMessageRequest, context: ServerCallContext) -> None:
        """A ``podium`` metadata field of the wrong type: -32602 before any task exists. A
        message naming no context nor task starts a new context (its history is empty)."""
        if not params.message.context_id and not params.message.task_id:
            mark_new_context(context)
        if not params.message.HasField("metadata"):
            return
        podium = MessageToDict(params.message.metadata).get("podium")
        if podium is not None and not isinstance(podium, dict):
            raise InvalidParamsError(message="metadata.podium must be an object")
        if reason := podium_meta.problem(podium):
            raise InvalidParamsError(message=reason)

    async def on_message_send(
        self, params: pb.SendMessageRequest, context: ServerCallContext
    ) -> pb.Message | pb.Task:
        self._check(params, context)
        settings = params.configuration
        if settings.return_immediately or settings.HasField("task_push_notification_config"):
            mark_followed(context)
        params = await heard(params, self.hearing)
        result = await super().on_message_send(await self._follow_up(params, context), context)
        return cast("pb.Message | pb.Task", result)

    async def on_message_send_stream(  # type: ignore[override]
        self, params: pb.SendMessageRequest, context: ServerCallContext
    ) -> AsyncIterator[Any]:
        self._check(params, context)
        mark_followed(context)
        rewritten = await self._follow_up(await heard(params, self.hearing), context)
        async for event in super().on_message_send_stream(rewritten, context):
            yield event


class TurnNotStarted(InternalError):
    """The handler ended an in-process turn before its first event (its starter was canceled,
    or the server is stopping)."""


BEARER = "bearer"


def build_card(
    persona: Persona,
    url: str,
    version: str,
    brain_label: str,
    authenticated: bool = False,
    push: bool = False,
) -> pb.AgentCard:
    """The agent card for ``persona`` served at ``url`` (absolute, no trailing slash);
    ``authenticated``: callers must send ``Authorization: Bearer``, as the card declares."""
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
    card = pb.AgentCard(
        name=persona.display_name,
        description=description,
        version=version,
        supported_interfaces=interfaces,
        provider=pb.AgentProvider(organization="Podium", url=url),
        capabilities=pb.AgentCapabilities(streaming=True, push_notifications=push),
        default_input_modes=["text/plain", *AUDIO_TYPES],  # speech is heard (audio_parts)
        default_output_modes=["text/plain", OGG, WAV],  # answers spoken on request
        skills=skills,
    )
    if authenticated:
        card.security_schemes[BEARER].http_auth_security_scheme.CopyFrom(
            pb.HTTPAuthSecurityScheme(
                scheme="Bearer",
                description="An API key, or a token from the identity provider",
            )
        )
        requirement = card.security_requirements.add()
        requirement.schemes[BEARER].CopyFrom(pb.StringList())
    return card


def call_context(owner: str = "") -> ServerCallContext:
    """The call context for in-process calls on behalf of ``owner`` (empty: the anonymous
    caller's scope, which the server's own rooms share)."""
    return owner_context(owner)


def _nobody(_: str) -> str:
    return ""


@dataclass
class AgentService:
    persona: Persona
    path: str  # "" for the root agent, "/agents/{name}" for debaters
    card: pb.AgentCard
    executor: AgentExecutor
    handler: PodiumRequestHandler
    store: TaskStore
    # The owner of a running task by id (its turn log knows): internal cancels act as it.
    owner_of_task: Callable[[str], str] = _nobody
    versioned: VersionedTaskStore | None = None  # replicas: the store behind ``store``

    @property
    def name(self) -> str:
        return self.persona.name

    async def stream(
        self,
        text: str,
        context_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        message_id: str | None = None,
        owner: str = "",
    ) -> AsyncGenerator[Any, None]:
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
        async for event in self.handler.on_message_send_stream(request, call_context(owner)):
            yield event

    async def start(
        self,
        text: str,
        context_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        message_id: str | None = None,
        owner: str = "",
    ) -> Turn:
        """Starts a turn in-process: returns once its task exists (the id), with the rest of
        its events to follow. Raises ``A2AError`` when the message is refused."""
        events = self.stream(text, context_id, metadata, message_id, owner)
        try:
            first = await anext(events)
        except StopAsyncIteration:  # the handler ended it before it began (shutting down)
            await events.aclose()
            raise TurnNotStarted(f"{self.name} ended the turn before it started") from None
        except BaseException:
            await events.aclose()
            raise
        task_id = first.id if isinstance(first, pb.Task) else getattr(first, "task_id", "")
        return Turn(task_id, getattr(first, "context_id", ""), events)

    async def get_task(self, task_id: str, owner: str = "") -> pb.Task | None:
        task = await self.store.get(task_id, call_context(owner))
        return task if isinstance(task, pb.Task) else None

    async def cancel(
        self, task_id: str, why: CancelReason | None = None, owner: str | None = None
    ) -> pb.Task | None:
        """Cancels ``task_id`` saying who and why, as ``owner`` (by default the running task's
        owner: the server's own cancels); None when it had already ended (or is not this
        agent's, or not ``owner``'s). Clients' cancels go through the SDK's routes."""
        request = pb.CancelTaskRequest(id=task_id)
        owner = self.owner_of_task(task_id) if owner is None else owner
        context = (why or CancelReason()).into(call_context(owner))
        try:
            return cast("pb.Task | None", await self.handler.on_cancel_task(request, context))
        except A2AError as error:  # it ended on its own meanwhile
            log.debug("%s: task %s not canceled: %s", self.name, task_id, error)
            return None


class AgentDirectory:
    """All agents of this server by name; the root (moderator) agent is kept apart."""

    def __init__(self, root: AgentService | None = None) -> None:
        self.root = root
        self._debaters: dict[str, AgentService] = {}
        self._invited: dict[str, AgentService] = {}  # remote agents a room invited by URL

    def add(self, service: AgentService) -> None:
        self._debaters[service.name] = service

    def invite(self, service: AgentService) -> None:
        """An agent one room invited: found by name, not listed with the debaters."""
        self._invited[service.name] = service

    @property
    def invited(self) -> list[str]:
        return list(self._invited)

    def uninvite(self, name: str) -> AgentService | None:
        return self._invited.pop(name, None)

    def get(self, name: str) -> AgentService | None:
        if self.root is not None and name == self.root.name:
            return self.root
        return self._debaters.get(name.lower()) or self._invited.get(name.lower())

    @property
    def debaters(self) -> list[AgentService]:
        return list(self._debaters.values())

    def all(self) -> list[AgentService]:
        return ([self.root] if self.root else []) + self.debaters

    async def find_task(self, task_id: str, owner: str = "") -> tuple[AgentService, pb.Task] | None:
        """The service that holds ``owner``'s task ``task_id`` and the task, or None."""
        for service in self.all():
            task = await service.get_task(task_id, owner)
            if task is not None:
                return service, task
        return None
