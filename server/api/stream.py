"""Plain text SSE lifecycle over the same A2A tasks: spawn, stream, cancel.

``POST /stream`` starts a turn on any agent and returns its task id at once; the turn runs in
the background whether or not anyone watches. ``GET /stream/{task_id}`` streams its text, one
``data:`` event per chunk whose ``id:`` is the character offset reached, then ``event: status``
with the terminal state. ``Last-Event-ID`` resumes after that offset; after the end, or after
a restart, the stored task's text is replayed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from a2a.server.tasks.task_manager import append_artifact_to_task
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError, TaskNotFoundError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent

from agents import podium_meta
from agents.service import AgentService, call_context
from agents.task_states import terminal_name
from server.auth.gate import principal_of
from server.http.errors import BadRequest, Conflict, NotFound, Unavailable
from server.runtime import Runtime
from store.tasks import StoreUnavailable

log = logging.getLogger(__name__)


class StreamRequest(BaseModel):
    agent: str = "moderator"
    text: str = Field(min_length=1, max_length=20_000)
    context_id: str | None = Field(default=None, max_length=200)
    rounds: int | None = Field(default=None, ge=1, le=20)
    speakers: list[str] | None = None


def task_text(task: pb.Task) -> str:
    """The text of a stored task: every artifact's text, turns separated like the live log."""
    pieces: list[str] = []
    for artifact in task.artifacts:
        text = "".join(p.text for p in artifact.parts)
        if podium_meta.is_turn_artifact(artifact.artifact_id):  # a moderator task's turn
            text = f"{artifact.name}: {text}"
        pieces.append(text)
    return "\n\n".join(pieces)


class StreamHub:
    """Owns the background consumers of spawned turns."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._tasks: set[asyncio.Task[None]] = set()

    async def spawn(self, request: StreamRequest, owner: str = "") -> tuple[str, str]:
        service = self._runtime.directory.get(request.agent)
        if service is None:
            raise NotFound(f"unknown agent {request.agent!r} (see GET /agents)")
        meta: dict[str, Any] = {}
        if request.rounds is not None:
            meta["rounds"] = request.rounds
        if request.speakers is not None:
            meta["speakers"] = request.speakers
        meta = meta or {"speaker": "user"}
        try:
            turn = await service.start(request.text, request.context_id, meta, owner=owner)
        except TaskNotFoundError as error:
            raise NotFound(str(error)) from error
        except StoreUnavailable as error:
            raise Unavailable(error.message) from error
        except A2AError as error:
            raise BadRequest(str(error)) from error

        async def consume() -> None:
            try:
                async for _ in turn.events:
                    pass
            except A2AError as error:
                log.warning("stream consumer ended: %s", error)

        job = asyncio.create_task(consume())
        self._tasks.add(job)
        job.add_done_callback(self._tasks.discard)
        return turn.task_id, turn.context_id

    async def aclose(self) -> None:
        for job in list(self._tasks):
            job.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _states(service: AgentService, stored: pb.Task, owner: str) -> AsyncIterator[pb.Task]:
    """The stored task, then, while it runs on another replica, its state after each event."""
    yield stored
    if terminal_name(stored.status.state) is not None:
        return
    task = pb.Task()
    task.CopyFrom(stored)
    request = pb.SubscribeToTaskRequest(id=stored.id)
    try:
        async for event in service.handler.on_subscribe_to_task(request, call_context(owner)):
            match event:
                case pb.Task():
                    task.CopyFrom(event)
                case pb.TaskArtifactUpdateEvent():
                    append_artifact_to_task(task, event)
                case pb.TaskStatusUpdateEvent():
                    task.status.CopyFrom(event.status)
                case _:
                    continue
            yield task
    except A2AError:  # it ended meanwhile (or runs nowhere): what the store holds now
        latest = await service.get_task(stored.id, owner)
        if latest is not None:
            yield latest


def _offset(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("from") or "0"
    return int(raw) if raw.isdigit() else 0


def stream_router(runtime: Runtime, hub: StreamHub) -> APIRouter:
    router = APIRouter(tags=["Plain text SSE"])

    @router.post("/stream", status_code=201)
    async def spawn(request: Request) -> JSONResponse:
        """Starts a turn: a JSON body ``{"text": ..., "agent": ..., "context_id": ...}``."""
        try:
            body = StreamRequest.model_validate_json(await request.body())
        except ValidationError as error:
            raise BadRequest(f"invalid /stream request: {error}") from error
        task_id, context_id = await hub.spawn(body, principal_of(request.scope).name)
        return JSONResponse(
            {
                "task_id": task_id,
                "context_id": context_id,
                "agent": body.agent,
                "stream_url": f"/stream/{task_id}",
            },
            status_code=201,
        )

    @router.get("/stream/{task_id}")
    async def follow(task_id: str, request: Request) -> EventSourceResponse:
        offset = _offset(request)
        owner = principal_of(request.scope).name
        turn = runtime.turn_logs.get(task_id)
        if turn is not None and turn.owner != owner:
            turn = None  # somebody else's: not found, like any task one does not own
        if turn is None:
            found = await runtime.directory.find_task(task_id, owner)
            if found is None:
                raise NotFound(f"unknown task {task_id!r}")
            service, stored = found
        else:
            stored = None

        async def events() -> AsyncIterator[ServerSentEvent]:
            if turn is not None:
                async for end, chunk in turn.follow(offset):
                    yield ServerSentEvent(data=chunk, id=str(end))
                yield ServerSentEvent(data=turn.state or "unknown", event="status")
                return
            assert stored is not None
            sent, task = offset, stored
            async for task in _states(service, stored, owner):
                text = task_text(task)
                if len(text) > sent:
                    yield ServerSentEvent(data=text[sent:], id=str(len(text)))
                    sent = len(text)
            yield ServerSentEvent(
                data=terminal_name(task.status.state) or "working", event="status"
            )

        return EventSourceResponse(events(), ping=15, sep="\n")

    @router.post("/stream/{task_id}/cancel")
    async def cancel(task_id: str, request: Request) -> JSONResponse:
        owner = principal_of(request.scope).name
        found = await runtime.directory.find_task(task_id, owner)
        if found is None:
            raise NotFound(f"unknown task {task_id!r}")
        service, _ = found
        task = await service.cancel(task_id, owner=owner)
        if task is None:
            raise Conflict(f"task {task_id} already ended")
        state = terminal_name(task.status.state) or "working"
        return JSONResponse({"task_id": task_id, "state": state})

    return router
