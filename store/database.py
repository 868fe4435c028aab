"""The database behind everything Podium keeps, chosen by one URL (``database_url``).

``sqlite+aiosqlite:///<data dir>/podium.sqlite3`` is the embedded default: WAL (reads never
wait on the writer), ``synchronous=NORMAL`` (a commit survives the process being killed), a
busy timeout, and one writer (``GroupWriter``). ``postgresql+asyncpg://...`` is for
production and for several replicas sharing one database. Opening checks the database is
reachable and brings its schema up to date: the SDK's tables as the SDK defines them, and
Podium's own through Alembic revisions (``store/migrations``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2a.server.models import Base as SdkBase
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store.commit import AsyncCommit, Commit
from store.sqlite_commit import InlineCommit
from store.writer import GroupWriter

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMA_LOCK = 0x70_6F_64_69_75_6D  # PostgreSQL advisory lock: one replica migrates at a time
BUSY_TIMEOUT_MS = 10_000
PING_SECONDS = 2.0


class DatabaseUnavailable(Exception):
    """The database cannot be reached or used; ``str(error)`` says why, in one line."""


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    writer: GroupWriter

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def shared(self) -> bool:
        """Other processes may write to it (replicas): nothing may be cached as the truth."""
        return self.dialect != "sqlite"

    async def start(self) -> None:
        """Checks the database answers and migrates its schema; ``DatabaseUnavailable`` if not."""
        try:
            async with self.engine.begin() as connection:
                if self.dialect == "postgresql":
                    await connection.execute(text(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))
                await connection.run_sync(_migrate)
        except (SQLAlchemyError, OSError) as error:
            raise DatabaseUnavailable(
                f"database {describe(self.url)} is not usable: {_reason(error)}"
            ) from error

    async def problem(self) -> str | None:
        """Why the database does not answer now (within ``PING_SECONDS``), or None."""
        try:
            async with asyncio.timeout(PING_SECONDS), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            return _reason(error) or "no answer"
        return None

    async def task_owners(self, prefix: str) -> list[str]:
        """The principals owning tasks whose owner scope starts with ``prefix`` (an agent's
        ``"name/"``): what start-up repair looks through, owner by owner."""
        await self.writer.flushed()
        query = text("SELECT DISTINCT owner FROM tasks WHERE owner LIKE :pattern ESCAPE '\\'")
        pattern = prefix.replace("%", r"\%").replace("_", r"\_") + "%"
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query, {"pattern": pattern})).all()
        return sorted(str(row[0])[len(prefix) :] for row in rows if row[0] is not None)

    async def aclose(self) -> None:
        await self.writer.aclose()
        await self.engine.dispose()


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error.__cause__ or error
    return (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )


def _migrate(connection: Connection) -> None:
    SdkBase.metadata.create_all(connection)  # the SDK's tables, as this SDK version defines them
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def async_url(url: str) -> URL:
    """``url`` as the async engine takes it: the plain ``postgresql://`` and ``postgres://``
    forms hosting platforms hand out mean asyncpg, and their libpq ``sslmode`` becomes
    asyncpg's ``ssl``."""
    parsed = make_url(url)
    driver = ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        return parsed
    parsed = parsed.set(drivername=driver)
    mode = parsed.query.get("sslmode")
    if isinstance(mode, str):
        query = {k: v for k, v in parsed.query.items() if k != "sslmode"}
        query["ssl"] = mode  # asyncpg takes libpq's modes (disable ... verify-full) by this name
        parsed = parsed.set(query=query)
    return parsed


def open_database(url: str) -> Database:
    """An engine for ``url`` (not connected yet; ``start()`` connects)."""
    try:
        parsed = async_url(url)
    except ArgumentError as error:
        raise DatabaseUnavailable(f"database_url is not a database URL: {error}") from error
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUnavailable(
                    f"database {describe(url)} is not usable: {error.strerror}: {error.filename}"
                ) from error
        options.update(pool_size=8, max_overflow=24, pool_timeout=30)
    else:
        # Replicas save every task event in its own transaction (the SDK's versioned store):
        # a busy replica needs connections; two replicas stay within PostgreSQL's default 100.
        options.update(pool_size=10, max_overflow=30, pool_timeout=30)
    try:
        engine = create_async_engine(parsed, **options)
    except (ArgumentError, ImportError) as error:
        raise DatabaseUnavailable(f"database_url {describe(url)}: {error}") from error
    commit: Commit = AsyncCommit(engine)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if parsed.database and parsed.database != ":memory:":  # a file a second connection sees
            commit = InlineCommit(url, _sqlite_pragmas)
    return Database(url, engine, GroupWriter(commit))
