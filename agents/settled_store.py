"""Task store decorators that settle turn logs once a terminal state is stored.

Live text reaches a turn log as it is delivered, but a turn log only reports its end after
the task store holds the terminal task, so a text client that saw ``completed`` can read the
same task, whole, over A2A at once. ``SettledTaskStore`` wraps a plain store (one process);
``SettledVersionedTaskStore`` wraps the SDK's versioned store (replicas sharing a database).
"""

from __future__ import annotations

from a2a.server.cluster import StoredTask, TaskVersion, VersionedTaskStore
from a2a.server.context import ServerCallContext
from a2a.server.events.event_queue import Event
from a2a.server.tasks import TaskStore
from a2a.types import a2a_pb2 as pb

from agents.task_states import terminal_name
from agents.turn_log import TurnLogs


async def _settle(turn_logs: TurnLogs, task: pb.Task) -> None:
    state = terminal_name(task.status.state)
    turn = turn_logs.get(task.id)
    if state is not None and turn is not None:
        reason = "".join(p.text for p in task.status.message.parts) or None
        await turn.finish(state, reason)


class SettledTaskStore(TaskStore):
    def __init__(self, inner: TaskStore, turn_logs: TurnLogs) -> None:
        self.inner = inner
        self._turn_logs = turn_logs

    async def save(self, task: pb.Task, context: ServerCallContext) -> None:
        await self.inner.save(task, context)
        await _settle(self._turn_logs, task)

    async def get(self, task_id: str, context: ServerCallContext) -> pb.Task | None:
        return await self.inner.get(task_id, context)

    async def list(
        self, params: pb.ListTasksRequest, context: ServerCallContext
    ) -> pb.ListTasksResponse:
        return await self.inner.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        await self.inner.delete(task_id, context)


class SettledVersionedTaskStore(VersionedTaskStore):
    def __init__(self, inner: VersionedTaskStore, turn_logs: TurnLogs) -> None:
        self.inner = inner
        self._turn_logs = turn_logs

    async def save(
        self,
        task: pb.Task,
        *,
        event: Event | None,
        prev: pb.Task | None,
        prev_version: TaskVersion,
        context: ServerCallContext,
    ) -> TaskVersion:
        version = await self.inner.save(
            task, event=event, prev=prev, prev_version=prev_version, context=context
        )
        await _settle(self._turn_logs, task)
        return version

    async def get(self, task_id: str, context: ServerCallContext) -> StoredTask | None:
        return await self.inner.get(task_id, context)

    async def list(
        self, params: pb.ListTasksRequest, context: ServerCallContext
    ) -> pb.ListTasksResponse:
        return await self.inner.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        await self.inner.delete(task_id, context)
