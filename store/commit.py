"""How a group of writes becomes one transaction: what a write is, and the two ways to commit.

A write is either ``Rows`` (one row of a statement built once) or a function of a (sync)
``Connection``. A group runs all its rows of one statement as one ``executemany``; a
function runs in its place, after the rows handed in before it.

- SQLite: ``store.sqlite_commit`` (on the event loop's thread, or the writer's own thread).
- ``AsyncCommit`` (PostgreSQL): the transaction runs on the async engine; the functions see
  a sync facade of the connection (SQLAlchemy's ``run_sync``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Executable
from sqlalchemy.ext.asyncio import AsyncEngine


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
