"""The group-committing writer on a real SQLite file: writes that arrive together share one
transaction, a key keeps only its latest write, a bad write fails alone, a refused write is
tried again, and waiting for the writes so far never waits on writes that keep coming."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from agents.brains.brain import Utterance
from agents.transcript import Transcript
from store.commit import Apply, Rows
from store.database import Database, open_database
from store.history import DatabaseHistory
from store.tables import rooms


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
    await database.start()
    yield database  # type: ignore[misc]
    await database.aclose()


def insert_room(room_id: str, topic: str = "t") -> Apply:
    def apply(connection: Connection) -> None:
        row = {"id": room_id, "topic": topic, "agents": "[]", "created": 0.0}
        connection.execute(rooms.insert().values(row))

    return apply


async def topics(database: Database) -> dict[str, str]:
    async with database.engine.connect() as connection:
        rows = (await connection.execute(sa.select(rooms.c.id, rooms.c.topic))).all()
    return {r[0]: r[1] for r in rows}


async def test_writes_arriving_together_share_one_commit(database: Database) -> None:
    writer = database.writer
    before = writer.commits
    await asyncio.gather(*(writer.put(insert_room(f"r{i}")) for i in range(200)))
    assert len(await topics(database)) == 200
    assert writer.commits - before <= 2, "200 writes, one group (two if a window closed)"


async def test_a_key_is_written_once_as_its_latest_write(database: Database) -> None:
    writer = database.writer

    def upsert(topic: str) -> Apply:
        def apply(connection: Connection) -> None:
            connection.execute(rooms.delete().where(rooms.c.id == "k"))
            insert_room("k", topic)(connection)

        return apply

    waits = [writer.put(upsert(f"v{i}"), key="k") for i in range(20)]
    await asyncio.gather(*waits)
    assert await topics(database) == {"k": "v19"}


async def test_a_write_that_may_wait_is_replaced_by_newer_ones_then_written(
    database: Database,
) -> None:
    """A running task's saves: each may wait for the next; only the latest is written, once
    its wait is over, and a write due at once in the meantime does not take it along."""
    writer = database.writer
    written: list[str] = []

    def upsert(topic: str) -> Apply:
        def apply(connection: Connection) -> None:
            connection.execute(rooms.delete().where(rooms.c.id == "k"))
            insert_room("k", topic)(connection)
            written.append(topic)

        return apply

    loop = asyncio.get_running_loop()
    start = loop.time()
    waits = [writer.put(upsert(f"v{i}"), key="k", delay=0.3) for i in range(5)]
    await writer.put(insert_room("other"))  # due at once: committed without the waiting one
    assert written == [] and "k" not in await topics(database)
    await asyncio.gather(*waits)
    assert loop.time() - start >= 0.3
    assert written == ["v4"] and (await topics(database))["k"] == "v4"


async def test_flushed_writes_the_writes_that_may_wait(database: Database) -> None:
    writer = database.writer
    waiting = writer.put(insert_room("later"), key="later", delay=60)
    await writer.flushed()
    assert waiting.done() and "later" in await topics(database)


async def test_a_bad_write_fails_alone(database: Database) -> None:
    writer = database.writer
    await writer.put(insert_room("taken"))
    good = [writer.put(insert_room(f"ok{i}")) for i in range(5)]
    bad = writer.put(insert_room("taken"), retry=False)  # the same id again
    more = [writer.put(insert_room(f"ok{i}")) for i in range(5, 10)]
    await asyncio.gather(*good, *more)
    with pytest.raises(IntegrityError):
        await bad
    assert set(await topics(database)) == {"taken", *(f"ok{i}" for i in range(10))}


def room_row(room_id: str, topic: str = "t") -> Rows:
    return Rows(
        rooms.insert(), lambda: {"id": room_id, "topic": topic, "agents": "[]", "created": 0}
    )


async def test_rows_of_one_statement_are_one_executemany_in_order_with_functions(
    database: Database,
) -> None:
    statement = rooms.insert()
    executes: list[tuple[str, int]] = []

    def seen(conn, cursor, sql, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        executes.append((sql.split()[0], len(parameters) if executemany else 1))

    # Every engine's: the writer has its own connection.
    sa.event.listen(sa.Engine, "before_cursor_execute", seen)

    def row(room_id: str) -> Rows:
        return Rows(statement, lambda: {"id": room_id, "topic": "t", "agents": "[]", "created": 0})

    def rename(connection: Connection) -> None:  # sees the rows put before it
        connection.execute(rooms.update().values(topic="renamed"))

    waits = [database.writer.put(row(f"a{i}")) for i in range(30)]
    waits.append(database.writer.put(rename))
    waits += [database.writer.put(row(f"b{i}")) for i in range(20)]
    try:
        await asyncio.gather(*waits)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", seen)
    found = await topics(database)
    assert len(found) == 50
    assert {t for r, t in found.items() if r.startswith("a")} == {"renamed"}
    assert {t for r, t in found.items() if r.startswith("b")} == {"t"}
    inserts = [n for verb, n in executes if verb == "INSERT"]
    assert inserts == [30, 20], executes


async def test_a_bad_row_in_a_batch_fails_alone(database: Database) -> None:
    writer = database.writer
    await writer.put(room_row("taken"))
    good = [writer.put(room_row(f"ok{i}")) for i in range(8)]
    bad = writer.put(room_row("taken"), retry=False)
    await asyncio.gather(*good)
    with pytest.raises(IntegrityError):
        await bad
    assert set(await topics(database)) == {"taken", *(f"ok{i}" for i in range(8))}


async def test_a_refused_write_is_tried_again_until_taken(database: Database) -> None:
    writer = database.writer
    refusals = 2

    def flaky(connection: Connection) -> None:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        insert_room("late")(connection)

    taken = asyncio.Event()
    first = writer.put(flaky, committed=taken.set)  # its caller hears of the refusal...
    with pytest.raises(OperationalError):
        await first
    await asyncio.wait_for(taken.wait(), 10)  # ...and the data is kept and written later
    assert refusals == 0
    assert "late" in await topics(database)


async def test_flushed_does_not_wait_for_writes_that_keep_coming(database: Database) -> None:
    writer = database.writer
    stop = asyncio.Event()

    async def busy() -> None:
        n = 0
        while not stop.is_set():
            writer.put(insert_room(f"busy{n}"))
            n += 1
            await asyncio.sleep(0)

    producer = asyncio.create_task(busy())
    writer.put(insert_room("mine"))
    await asyncio.wait_for(writer.flushed(), 5)
    assert "mine" in await topics(database)
    stop.set()
    await producer


async def test_history_is_read_back_after_its_cache_forgets(database: Database) -> None:
    transcript = Transcript(DatabaseHistory(database), contexts=2)
    for context in ("a", "b", "c"):
        for n in range(3):
            await transcript.append(context, Utterance(speaker=context, text=f"{context}{n}"))
    for context in ("a", "b", "c"):  # "a" was forgotten by the cache: read from the database
        history = await transcript.history(context)
        assert [u.text for u in history] == [f"{context}{n}" for n in range(3)]


async def test_a_file_another_connection_writes_is_waited_for_off_the_loop(
    database: Database, tmp_path: Path
) -> None:
    """Groups commit on the loop's thread; when another connection holds the file, the group
    goes to the writer's thread, which waits for it while the loop runs on."""
    other = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    other.execute("INSERT INTO rooms (id, topic, agents, created) VALUES ('first', 't', '[]', 0)")
    waiting = database.writer.put(room_row("second"))
    ran = asyncio.Event()

    async def beat() -> None:
        ran.set()

    beating = asyncio.create_task(beat())
    await asyncio.wait_for(ran.wait(), 5)  # the loop was not held by the busy file
    await beating
    assert not waiting.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(waiting, 15)
    assert set(await topics(database)) == {"first", "second"}
