"""The reference for ``a2a_throughput.py --compare``: the a2a-sdk serving a trivial agent.

Usage: python benchmarks/sdk_reference.py --port 9100 [--database-url sqlite+aiosqlite:///x.db]
Without ``--database-url`` tasks are kept in the SDK's ``InMemoryTaskStore``; with it, in the
SDK's own ``DatabaseTaskStore``. The agent answers every message at once with one short
artifact (submitted, working, artifact, completed: the same events as a Podium turn).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from a2a.helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import DatabaseTaskStore, InMemoryTaskStore, TaskStore, TaskUpdater
from a2a.types import a2a_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

REPLY = "Trams carry more people per lane than cars. That is the whole case. Build them."


class TrivialExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        if context.current_task is None:
            await event_queue.enqueue_event(
                new_task(
                    context.task_id or "",
                    context.context_id or "",
                    pb.TaskState.TASK_STATE_SUBMITTED,
                    history=[context.message] if context.message else None,
                )
            )
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await updater.start_work()
        await updater.add_artifact([pb.Part(text=REPLY)], artifact_id="reply", last_chunk=True)
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await updater.cancel()


def app(port: int, database_url: str | None) -> Starlette:
    store: TaskStore
    if database_url:
        store = DatabaseTaskStore(create_async_engine(database_url))
    else:
        store = InMemoryTaskStore()
    url = f"http://localhost:{port}"
    card = pb.AgentCard(
        name="reference",
        description="a trivial agent",
        version="1.0",
        supported_interfaces=[
            pb.AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=pb.AgentCapabilities(streaming=True),
        skills=[pb.AgentSkill(id="reply", name="reply", description="answers", tags=["demo"])],
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
    )
    handler = DefaultRequestHandler(
        agent_executor=TrivialExecutor(), task_store=store, agent_card=card
    )
    routes = [
        *create_agent_card_routes(card, card_url="/.well-known/agent-card.json"),
        *create_jsonrpc_routes(handler, rpc_url="/"),
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if isinstance(store, DatabaseTaskStore):
            await store.initialize()  # the table is made once, before requests race to it
        yield

    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    uvicorn.run(app(args.port, args.database_url), port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
