"""Replicas sharing a database: which replica runs each turn, and the turns of a replica that
stopped ended ``failed`` by another.

Each replica records the turns it starts (``running_tasks``) and renews its heartbeat
(``replicas``) every ``lease / 3`` seconds. A turn whose replica's heartbeat is older than the
lease is claimed by one conditional delete, which exactly one replica wins, and its task ends
``failed`` through the versioned store with its event: a client following it on any replica
sees it end, and ``GetTask`` says why. A replica that starts again fails what its last life
left running. One process alone (SQLite) repairs its store at start-up instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import SQLAlchemyError

from agents.turn_log import TurnLog
from store.commit import Rows
from store.database import Database
from store.tables import replicas, running_tasks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Abandoned:
    task_id: str
    agent: str
    owner: str


Fail = Callable[[Abandoned], Awaitable[bool]]


class TaskLeases:
    def __init__(self, database: Database, replica: str, lease: float, fail: Fail) -> None:
        self._writer = database.writer
        self.replica = replica
        self.lease = lease
        self._fail = fail
        self._record = running_tasks.insert()
        statement = upsert(replicas)
        self._beat = statement.on_conflict_do_update(
            index_elements=["replica"], set_={"heartbeat": statement.excluded.heartbeat}
        )

    def opened(self, turn: TurnLog) -> None:
        row = {
            "task_id": turn.task_id,
            "agent": turn.agent,
            "owner": turn.owner,
            "replica": self.replica,
            "started": time.time(),
        }
        self._writer.put(Rows(self._record, lambda: row), key=("running", turn.task_id))

    def ended(self, turn: TurnLog) -> None:
        def forget(connection: Connection) -> None:
            done = running_tasks.c.task_id == turn.task_id
            connection.execute(running_tasks.delete().where(done))

        self._writer.put(forget, key=("running", turn.task_id))

    async def start(self) -> int:
        """Beats once and fails what this replica's last life left running; returns how many."""
        return await self.beat(mine=True)

    async def run(self) -> None:
        """The heartbeat. Runs until canceled."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.beat()
            except (SQLAlchemyError, OSError) as error:
                log.warning("task heartbeat failed (the database is away?): %s", error)

    async def beat(self, mine: bool = False) -> int:
        """Renews this replica's heartbeat and ends the turns of replicas that stopped (and
        ``mine``: this replica's own, from before it started). Returns how many it ended."""
        now = time.time()
        claimed: list[Abandoned] = []
        alive = sa.select(replicas.c.replica).where(replicas.c.heartbeat >= now - self.lease)
        orphaned = running_tasks.c.replica.not_in(alive) & (running_tasks.c.replica != self.replica)
        if mine:
            orphaned = orphaned | (running_tasks.c.replica == self.replica)

        def renew_and_claim(connection: Connection) -> None:
            connection.execute(self._beat, {"replica": self.replica, "heartbeat": now})
            gone = running_tasks.delete().where(orphaned)
            found = connection.execute(gone.returning(*_CLAIMED))
            claimed.extend(Abandoned(*row) for row in found)

        await self._writer.put(renew_and_claim, retry=False)
        ended = 0
        for turn in claimed:
            try:
                ended += await self._fail(turn)
            except Exception:
                log.exception("could not end task %s left by a stopped replica", turn.task_id)
        if ended:
            log.warning("%d task(s) left running by a stopped replica marked failed", ended)
        return ended

    async def aclose(self) -> None:
        """A clean stop: this replica's turns have ended; its heartbeat is let go."""

        def let_go(connection: Connection) -> None:
            connection.execute(replicas.delete().where(replicas.c.replica == self.replica))

        try:
            await self._writer.put(let_go, retry=False)
        except (SQLAlchemyError, OSError) as error:
            log.warning("could not let this replica's heartbeat go: %s", error)


_CLAIMED = (running_tasks.c.task_id, running_tasks.c.agent, running_tasks.c.owner)
