"""A2A agents built with the a2a-sdk, answering in the shapes agents in the wild use, to be
Podium's remote debaters in tests."""

from __future__ import annotations

import uuid
from enum import Enum

from a2a.helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import a2a_pb2 as pb
from starlette.applications import Starlette

NOTE = "Processing your question"
ANSWER = "Trams carry more people per lane than cars do. Build them first."


class Shape(Enum):
    NOTE_THEN_ARTIFACT = "a working note, then the answer as artifact chunks"
    MESSAGE_RESULT = "a Message as the whole result (no task)"
    STATUS_ONLY = "the answer in working status messages, no artifact"
    NOTE_THEN_FINAL_MESSAGE = "a working note, then the answer as the completed status message"


class ShapedExecutor(AgentExecutor):
    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id, context_id = context.task_id or "", context.context_id or ""
        if self.shape is Shape.MESSAGE_RESULT:
            await event_queue.enqueue_event(
                pb.Message(
                    message_id=uuid.uuid4().hex,
                    context_id=context_id,
                    role=pb.Role.ROLE_AGENT,
                    parts=[pb.Part(text=ANSWER)],
                )
            )
            return
        if context.current_task is None:
            await event_queue.enqueue_event(
                new_task(task_id, context_id, pb.TaskState.TASK_STATE_SUBMITTED)
            )
        updater = TaskUpdater(event_queue, task_id, context_id)

        def said(text: str) -> pb.Message:
            return updater.new_agent_message([pb.Part(text=text)])

        halves = [ANSWER[: len(ANSWER) // 2], ANSWER[len(ANSWER) // 2 :]]
        match self.shape:
            case Shape.NOTE_THEN_ARTIFACT:
                await updater.update_status(pb.TaskState.TASK_STATE_WORKING, message=said(NOTE))
                for index, half in enumerate(halves):
                    await updater.add_artifact(
                        [pb.Part(text=half)], artifact_id="answer", append=index > 0
                    )
                await updater.complete()
            case Shape.STATUS_ONLY:
                for half in halves:
                    await updater.update_status(pb.TaskState.TASK_STATE_WORKING, message=said(half))
                await updater.complete()
            case Shape.NOTE_THEN_FINAL_MESSAGE:
                await updater.update_status(pb.TaskState.TASK_STATE_WORKING, message=said(NOTE))
                await updater.complete(message=said(ANSWER))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        await TaskUpdater(event_queue, context.task_id or "", context.context_id or "").cancel()


def remote_agent(shape: Shape, url: str) -> Starlette:
    """The agent served at ``url`` (its card names that address)."""
    card = pb.AgentCard(
        name=f"remote {shape.name.lower()}",
        description=shape.value,
        version="1.0",
        supported_interfaces=[
            pb.AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=pb.AgentCapabilities(streaming=True),
        skills=[pb.AgentSkill(id="argue", name="argue", description="argues", tags=["debate"])],
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
    )
    handler = DefaultRequestHandler(
        agent_executor=ShapedExecutor(shape), task_store=InMemoryTaskStore(), agent_card=card
    )
    routes = [
        *create_agent_card_routes(card, card_url="/.well-known/agent-card.json"),
        *create_jsonrpc_routes(handler, rpc_url="/"),
    ]
    return Starlette(routes=routes)
