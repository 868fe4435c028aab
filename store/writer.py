"""The one writer of a database: writes that arrive together share one transaction.

Every write Podium makes (task saves, history, rooms on record) is handed to the database's
``GroupWriter``. Writes arriving within ``WINDOW`` of each other (and those that arrive while
a group is being committed) are committed in one transaction, so a busy server pays for one
commit per group instead of one per streamed word; SQLite has a single writer anyway, and
Podium's writes all come through here, so they never wait on each other's locks. A keyed
write replaces a pending one with the same key (a task saved several times before its group
is written is written once, as its latest state), and may wait (``delay``) for such a newer
write.

What a write is and how a group is committed: ``store.commit`` and ``store.sqlite_commit``.

``put`` returns a future that resolves when the write is committed. Callers that must not
go on before it is durable await it; others do not, and their writes are kept and tried
again until the database takes them (``retry=True``). A group that fails is written again
write by write, so one bad write fails alone instead of taking its neighbours with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from sqlalchemy import Connection
from sqlalchemy.exc import InterfaceError

from store.commit import Apply, Commit

log = logging.getLogger(__name__)
WINDOW = 0.001  # seconds a group stays open for more writes
RETRY = 0.5  # seconds before writes the database refused are tried again
ATTEMPTS = 120  # a write refused this many times (a minute) is given up, loudly
Committed = Callable[[], None]


@dataclass
class _Pending:
    apply: Apply
    retry: bool
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    attempts: int = 0
    committed: Committed | None = None  # called once the write (not a retry's error) commits
    due: float = 0.0  # loop time before which it waits for a newer write of its key

    def settle(self, error: BaseException | None = None) -> None:
        if error is None and self.committed is not None:
            self.committed()
        for waiter in self.waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
                waiter.exception()  # retrieved: the caller may not be waiting


def _unreachable(error: BaseException) -> bool:
    """The database itself is away (not one write's fault)."""
    return (
        isinstance(error, OSError | InterfaceError)
        or bool(getattr(error, "connection_invalidated", False))
        or isinstance(getattr(error, "orig", None), OSError)
    )


def _nothing(_: Connection) -> None:
    return None


class GroupWriter:
    """Group commit for one database. Owns its background flush task."""

    def __init__(self, commit: Commit, window: float = WINDOW) -> None:
        self._commit_group = commit
        self._window = window
        self._pending: dict[Hashable, _Pending] = {}
        self._writing: dict[Hashable, _Pending] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._due_now = asyncio.Event()  # a write due at once arrived (wakes a waiting flusher)
        self._closed = False
        self.commits = 0  # transactions committed so far
        self.writes = 0  # writes handed in so far
        self.failures = 0  # groups the database refused

    def put(
        self,
        apply: Apply,
        key: Hashable | None = None,
        retry: bool = True,
        committed: Committed | None = None,
        delay: float = 0.0,
    ) -> asyncio.Future[None]:
        """Queues ``apply`` for the next group; the future resolves once committed.

        ``delay``: the write may wait that long for a newer write of the same ``key`` to
        replace it (a running task saved word by word is written about once a ``delay``); a
        write due sooner, ``flushed`` and closing write it at once."""
        if self._closed:
            raise RuntimeError("the database writer is closed")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        slot = key if key is not None else object()
        earlier = self._pending.get(slot)
        waiters = [*earlier.waiters, waiter] if earlier else [waiter]
        due = loop.time() + delay
        if earlier is not None:
            due = min(due, earlier.due)
        entry = _Pending(apply, retry, waiters, committed=committed, due=due)
        self._pending[slot] = entry
        self.writes += 1
        self._idle.clear()
        if delay <= 0:
            self._due_now.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="database writer")
        return waiter

    def pending(self, key: Hashable) -> bool:
        return key in self._pending or key in self._writing

    async def flushed(self) -> None:
        """Returns once the writes handed in so far were committed (or refused).

        A marker joins the next group: groups are written in order, so when it is done,
        everything before it is too, however busy the writer stays."""
        if self._pending or self._writing:
            self._all_due()
            await self.put(_nothing, retry=False)

    def _all_due(self) -> None:
        for entry in self._pending.values():
            entry.due = 0.0
        self._due_now.set()

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            wait = min(entry.due for entry in self._pending.values()) - loop.time()
            if wait > 0:  # only writes that may wait for newer ones: until the first is due
                self._due_now.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due_now.wait(), wait)
                continue
            await asyncio.sleep(self._window)  # the group stays open for writes meanwhile
            now = loop.time()
            self._writing = {k: e for k, e in self._pending.items() if e.due <= now}
            for key in self._writing:
                del self._pending[key]
            try:
                await self._commit(list(self._writing.values()))
            except Exception as error:
                self.failures += 1
                await self._one_by_one(error)
            else:
                self.commits += 1
                for entry in self._writing.values():
                    entry.settle()
            self._writing = {}
        self._idle.set()

    async def _one_by_one(self, group_error: Exception) -> None:
        """A group failed: each write alone, so only the writes that fail are failed."""
        refused: dict[Hashable, _Pending] = {}
        if len(self._writing) == 1 or _unreachable(group_error):  # alone, they would fail too
            refused = dict(self._writing)
            errors = {key: group_error for key in refused}
        else:
            errors = {}
            for key, entry in self._writing.items():
                try:
                    await self._commit([entry])
                except Exception as error:
                    refused[key] = entry
                    errors[key] = error
                else:
                    self.commits += 1
                    entry.settle()
        if not refused:
            return
        log.warning("the database refused %d write(s): %s", len(refused), group_error)
        for key, entry in refused.items():
            entry.settle(errors[key])  # whoever waits hears of it now
            if not entry.retry or self._closed or key in self._pending:
                continue  # not to be retried, or a newer write of the same key replaces it
            if entry.attempts + 1 >= ATTEMPTS:
                log.error("a write was refused %d times and is given up: %s", ATTEMPTS, errors[key])
                continue
            self._pending[key] = _Pending(
                entry.apply, True, attempts=entry.attempts + 1, committed=entry.committed
            )
        if self._pending:
            await asyncio.sleep(RETRY)  # the database is away or busy: try again shortly

    async def _commit(self, entries: list[_Pending]) -> None:
        await self._commit_group([entry.apply for entry in entries])

    async def aclose(self) -> None:
        """Writes what is pending (while the database takes it), then stops."""
        self._closed = True
        self._all_due()
        if self._flusher is not None and not self._flusher.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._idle.wait()), 5)
            left = len(self._pending) + len(self._writing)
            if left:
                log.error("stopping with %d write(s) the database did not take", left)
            self._flusher.cancel()
            await asyncio.wait({self._flusher})  # (a cancel of the caller still propagates)
        await self._commit_group.aclose()
