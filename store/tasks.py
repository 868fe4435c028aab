"""The SDK's ``DatabaseTaskStore``, its saves group-committed through the ``GroupWriter``.

The SDK saves a task on every event (each streamed word of a turn is one). Here a save
becomes one upsert in the writer's next group; a task saved again before its group is written
is written once, as its latest state. A terminal or input-awaiting state returns from
``save`` only once committed, so a client that saw it can read the whole task after the
process is killed; other states return at once and are served from memory until written
(``get`` sees them at once; ``list`` and ``delete`` wait for the writes before them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import sqlalchemy as sa
from a2a.server.context import ServerCallContext
from a2a.server.tasks import DatabaseTaskStore
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import InternalError
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from agents.task_states import TERMINAL_STATES
from store.database import Database

DURABLE = {  # states a client acts on: committed before ``save`` returns
    *TERMINAL_STATES,
    pb.TaskState.TASK_STATE_INPUT_REQUIRED,
    pb.TaskState.TASK_STATE_AUTH_REQUIRED,
}


class StoreUnavailable(InternalError):
    """The database behind the task store does not answer (an A2A internal error, -32603)."""


class GroupCommitTaskStore(DatabaseTaskStore):
    def __init__(self, database: Database, **kwargs: Any) -> None:
        super().__init__(database.engine, create_table=False, **kwargs)
        self._writer = database.writer
        self._insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
        self._unwritten: dict[str, tuple[pb.Task, str]] = {}
        self._table = cast("sa.Table", self.task_model.__table__)
        self._columns = [(a.key, a.columns[0].name) for a in inspect(self.task_model).column_attrs]

    async def save(self, task: pb.Task, context: ServerCallContext) -> None:
        owner = self.owner_resolver(context)
        task_id = task.id
        latest = pb.Task()
        latest.CopyFrom(task)
        row = self._row(latest, owner)
        self._unwritten[task_id] = (latest, owner)

        async def upsert(session: AsyncSession) -> None:
            statement = self._insert(self._table).values(row)
            update = {k: statement.excluded[k] for k in row if k != "id"}
            await session.execute(
                statement.on_conflict_do_update(index_elements=["id"], set_=update)
            )

        def written() -> None:
            if self._unwritten.get(task_id, (None,))[0] is latest:
                del self._unwritten[task_id]

        committed = self._writer.put(upsert, key=("task", task_id), committed=written)
        if task.status.state in DURABLE:
            await asyncio.shield(committed)

    def _row(self, task: pb.Task, owner: str) -> dict[str, Any]:
        model = self._to_orm(task, owner)
        return {name: getattr(model, key) for key, name in self._columns}

    async def get(self, task_id: str, context: ServerCallContext) -> pb.Task | None:
        unwritten = self._unwritten.get(task_id)
        if unwritten is not None and unwritten[1] == self.owner_resolver(context):
            copy = pb.Task()
            copy.CopyFrom(unwritten[0])
            return copy
        async with _unavailable():
            return await super().get(task_id, context)

    async def list(
        self, params: pb.ListTasksRequest, context: ServerCallContext
    ) -> pb.ListTasksResponse:
        await self._writer.flushed()
        async with _unavailable():
            return await super().list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        await self._writer.flushed()
        async with _unavailable():
            await super().delete(task_id, context)


@asynccontextmanager
async def _unavailable() -> AsyncIterator[None]:
    """A database that does not answer is an A2A error that says so, not a bare socket error."""
    try:
        yield
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise StoreUnavailable(
            message=f"the task store is unavailable ({reason[0] if reason else 'no answer'}); "
            "try again"
        ) from error
