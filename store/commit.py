"""How a group of writes becomes one transaction: what a write is, and the two ways to commit.

A write is either ``Rows`` (one row of a statement built once) or a function of a (sync)
``Connection``. A group runs all its rows of one statement as one ``executemany``; a
function runs in its place, after the rows handed in before it.

- ``ThreadCommit`` (SQLite): the whole transaction runs on the writer's own thread and
  connection, so a group costs the event loop one hand-off however many statements it has.
  Through the async driver every statement, the commit and the connection's reset were each a
  round trip through the loop, and under load each waited its turn there: a group took
  5-8 ms to commit, and every durable save waited that long.
- ``AsyncCommit`` (PostgreSQL): the transaction runs on the async engine; the functions see
  a sync facade of the connection (SQLAlchemy's ``run_sync``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Executable, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import SingletonThreadPool


@dataclass(frozen=True)
class Rows:
    """One row for ``statement``; ``row`` is called when the group is written (so a write
    replaced before then is never converted)."""

    statement: Executable
    row: Callable[[], Mapping[str, Any]]


Apply = Callable[[Connection], None] | Rows


def apply_all(connection: Connection, writes: Sequence[Apply]) -> None:
    """Runs ``writes`` in order on ``connection``, rows of one statement together."""
    rows: dict[int, tuple[Executable, list[Mapping[str, Any]]]] = {}
    for write in writes:
        if isinstance(write, Rows):
            rows.setdefault(id(write.statement), (write.statement, []))[1].append(write.row())
            continue
        _execute(connection, rows)
        rows = {}
        write(connection)
    _execute(connection, rows)


def _execute(
    connection: Connection, rows: dict[int, tuple[Executable, list[Mapping[str, Any]]]]
) -> None:
    for statement, values in rows.values():
        connection.execute(statement, values)


class Commit(Protocol):
    async def __call__(self, writes: Sequence[Apply]) -> None:
        """Commits ``writes`` as one transaction (all or none)."""

    async def aclose(self) -> None: ...


class AsyncCommit:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self, writes: Sequence[Apply]) -> None:
        async with self._engine.begin() as connection:
            await connection.run_sync(apply_all, writes)

    async def aclose(self) -> None:
        return None


class ThreadCommit:
    """One thread, one connection: the database's only writer."""

    def __init__(self, url: str, on_connect: Callable[[Any, Any], None]) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        # The connection lives on the writer's thread, which alone uses it.
        self._engine: Engine = create_engine(sync_url, poolclass=SingletonThreadPool)
        event.listen(self._engine, "connect", on_connect)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database writer")

    async def __call__(self, writes: Sequence[Apply]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._commit, writes)

    def _commit(self, writes: Sequence[Apply]) -> None:
        with self._engine.begin() as connection:
            apply_all(connection, writes)

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=False)
