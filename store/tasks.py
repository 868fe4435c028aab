"""The SDK's ``DatabaseTaskStore``, its saves group-committed through the ``GroupWriter``.

The SDK saves a task on every event (each streamed word of a turn is one). Here a save
becomes one upsert in the writer's next group; a task saved again before its group is written
is written once, as its latest state; a running task's later saves may wait up to
``RUNNING_WRITES_EVERY`` for the next (the first save of a task a client follows is written
at once, so a crash leaves it on record for start-up repair). A terminal or input-awaiting
state returns from ``save`` only once committed, so a client that saw it can read the whole
task after the process is killed; other states return at once and are served from memory
until written (``get`` sees them at once; ``list`` and ``delete`` wait for the writes before
them).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import sqlalchemy as sa
from a2a.server.cluster import StoredTask, TaskVersion, VersionedDatabaseTaskStore
from a2a.server.context import ServerCallContext
from a2a.server.events.event_queue import Event
from a2a.server.tasks import DatabaseTaskStore
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import InternalError
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from agents.task_states import TERMINAL_STATES
from agents.turn import is_followed, new_task_saved, unsaved_new_task
from store.commit import Rows
from store.database import Database

RECENT = 1024  # tasks per agent whose latest state is kept in memory
# Seconds a running task's save may wait for the next one: a voiced turn saves its task on every
# word, and a debate's task grows with every turn; each save rewrote the whole task.
RUNNING_WRITES_EVERY = 1.0
DURABLE = {  # states a client acts on: committed before ``save`` returns
    *TERMINAL_STATES,
    pb.TaskState.TASK_STATE_INPUT_REQUIRED,
    pb.TaskState.TASK_STATE_AUTH_REQUIRED,
}


class StoreUnavailable(InternalError):
    """The database behind the task store does not answer (an A2A internal error, -32603)."""


class GroupCommitTaskStore(DatabaseTaskStore):
    def __init__(self, database: Database, recent: int = RECENT, **kwargs: Any) -> None:
        super().__init__(database.engine, create_table=False, **kwargs)
        self._writer = database.writer
        # Tasks saved lately, as saved: every read of a running task is served from here (this
        # store is only used when no other process writes the database).
        self._recent: OrderedDict[str, tuple[pb.Task, str]] = OrderedDict()
        self._keep = recent
        table = cast("sa.Table", self.task_model.__table__)
        self._columns = [(a.key, a.columns[0].name) for a in inspect(self.task_model).column_attrs]
        insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
        statement = insert(table)
        update = {name: statement.excluded[name] for _, name in self._columns if name != "id"}
        self._upsert = statement.on_conflict_do_update(index_elements=["id"], set_=update)
        # Reads without the ORM session: a plain select by id and owner (most are misses:
        # the SDK looks up every new task's id before its first save).
        self._select = sa.select(table).where(
            table.c.id == sa.bindparam("id"), table.c.owner == sa.bindparam("owner")
        )

    async def save(self, task: pb.Task, context: ServerCallContext) -> None:
        new_task_saved(context, task.id)
        owner = self.owner_resolver(context)
        task_id = task.id
        # A followed task's first save is written at once: after a crash it is on record, and
        # start-up repair ends it. A blocking call's task is seen by nobody before its end.
        first = task_id not in self._recent and is_followed(context)
        latest = pb.Task()
        latest.CopyFrom(task)
        self._recent[task_id] = (latest, owner)
        self._recent.move_to_end(task_id)

        # Converted when written, once per write, not once per event: a task saved many times
        # while its group was open is converted and written as its latest state only.
        upsert = Rows(self._upsert, lambda: self._row(latest, owner))

        def written() -> None:
            while len(self._recent) > self._keep:  # the oldest that are written are let go
                oldest = next(iter(self._recent))
                if self._writer.pending(("task", oldest)):
                    break
                del self._recent[oldest]

        durable = task.status.state in DURABLE
        delay = 0.0 if durable or first else RUNNING_WRITES_EVERY
        committed = self._writer.put(upsert, key=("task", task_id), committed=written, delay=delay)
        if durable:
            await asyncio.shield(committed)

    def _row(self, task: pb.Task, owner: str) -> dict[str, Any]:
        model = self._to_orm(task, owner)
        return {name: getattr(model, key) for key, name in self._columns}

    async def get(self, task_id: str, context: ServerCallContext) -> pb.Task | None:
        recent = self._recent.get(task_id)
        if recent is not None and recent[1] == self.owner_resolver(context):
            copy = pb.Task()
            copy.CopyFrom(recent[0])
            return copy
        if unsaved_new_task(context, task_id):
            return None
        owner = self.owner_resolver(context)
        async with _unavailable(), self.engine.connect() as connection:
            found = (
                await connection.execute(self._select, {"id": task_id, "owner": owner})
            ).first()
        if found is None:
            return None
        model = self.task_model(**{key: found._mapping[name] for key, name in self._columns})
        return self._from_orm(model)

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
        recent = self._recent.get(task_id)
        if recent is not None and recent[1] == self.owner_resolver(context):
            del self._recent[task_id]


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


class ClusterTaskStore(VersionedDatabaseTaskStore):
    """The SDK's versioned store (replicas), whose reads say so when the database is away."""

    async def save(
        self,
        task: pb.Task,
        *,
        event: Event | None = None,
        prev: pb.Task | None = None,
        prev_version: TaskVersion,
        context: ServerCallContext,
    ) -> TaskVersion:
        new_task_saved(context, task.id)
        return await super().save(
            task, event=event, prev=prev, prev_version=prev_version, context=context
        )

    async def get(self, task_id: str, context: ServerCallContext) -> StoredTask | None:
        if unsaved_new_task(context, task_id):
            return None
        async with _unavailable():
            return await super().get(task_id, context)

    async def list(
        self, params: pb.ListTasksRequest, context: ServerCallContext
    ) -> pb.ListTasksResponse:
        async with _unavailable():
            return await super().list(params, context)
