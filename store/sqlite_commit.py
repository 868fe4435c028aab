"""How a group of writes commits to an SQLite file.

``InlineCommit`` runs the transaction right on the event loop's thread, with a connection of
its own. In WAL mode with ``synchronous=NORMAL`` a commit is a few writes into the OS page
cache (no fsync), ~0.1-0.3 ms for a group of a few rows, so doing it in place costs the loop
less than handing it off: on the writer's thread, the hand-off and the return through a busy
loop took 2-3 ms, and every durable save (a completed task) waited that long. Two things must
never block the loop, and go to the writer's thread (``ThreadCommit``) instead:

- a file another connection is writing (a busy timeout of 0 here: the group is handed over
  at once, and the thread waits for the file with the usual busy timeout);
- checkpoints (this connection never checkpoints; the thread copies the WAL back into the
  database every ``CHECKPOINT_EVERY`` commits, ``PASSIVE``, while writes go on).

Groups of more than ``INLINE_MOST`` writes (a burst) are committed on the thread as well.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import SingletonThreadPool

from store.commit import Apply, apply_all

INLINE_MOST = 64  # writes in a group committed in place; more go to the writer's thread
CHECKPOINT_EVERY = 500  # commits between two checkpoints
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}

OnConnect = Callable[[Any, Any], None]


def _engine(url: str, on_connect: OnConnect) -> Engine:
    # One connection per thread that uses it (each engine here is used by one thread).
    engine = create_engine(make_url(url).set(drivername="sqlite"), poolclass=SingletonThreadPool)
    event.listen(engine, "connect", on_connect)
    return engine


class ThreadCommit:
    """One thread, one connection: commits that may wait, and checkpoints."""

    def __init__(self, url: str, on_connect: OnConnect) -> None:
        self._engine = _engine(url, on_connect)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database writer")

    async def __call__(self, writes: Sequence[Apply]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._commit, writes)

    def _commit(self, writes: Sequence[Apply]) -> None:
        with self._engine.begin() as connection:
            apply_all(connection, writes)

    def checkpoint(self) -> asyncio.Future[None]:
        return asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)

    def _checkpoint(self) -> None:
        with self._engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=False)


class InlineCommit:
    def __init__(self, url: str, on_connect: OnConnect) -> None:
        def in_place(connection: Any, record: Any) -> None:
            on_connect(connection, record)
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout=0")  # never wait here: hand the group over
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # the thread checkpoints
            cursor.close()

        self._engine = _engine(url, in_place)
        self._thread = ThreadCommit(url, on_connect)
        self._commits = 0
        self._checkpointing: asyncio.Future[None] | None = None
        self.handed_over = 0  # groups committed on the thread (busy file, or large)

    async def __call__(self, writes: Sequence[Apply]) -> None:
        if len(writes) > INLINE_MOST or not self._in_place(writes):
            self.handed_over += 1
            await self._thread(writes)
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and (
            self._checkpointing is None or self._checkpointing.done()
        ):
            self._checkpointing = self._thread.checkpoint()

    def _in_place(self, writes: Sequence[Apply]) -> bool:
        """Commits ``writes`` here; False (nothing written) when another writer holds the file."""
        try:
            with self._engine.begin() as connection:
                apply_all(connection, writes)
        except OperationalError as error:
            code = getattr(error.orig, "sqlite_errorcode", 0)
            if code & 0xFF in _BUSY:  # (extended codes too: a busy snapshot, a busy recovery)
                return False
            raise
        return True

    async def aclose(self) -> None:
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        self._engine.dispose()
        await self._thread.aclose()
