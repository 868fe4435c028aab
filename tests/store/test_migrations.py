"""The schema is brought up to date on open: a fresh file, and a store written by the version
before migrations existed (its tables made by hand), which keeps its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from agents.brains.brain import Utterance
from agents.transcript import Transcript
from server.replicas.room_records import RoomRecords
from store.database import MIGRATIONS, DatabaseUnavailable, open_database
from store.history import DatabaseHistory
from tests.postgres import Postgres

OLD_SCHEMA = """
CREATE TABLE utterances (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, context_id TEXT NOT NULL, speaker TEXT NOT NULL,
    text TEXT NOT NULL, interrupted INTEGER NOT NULL DEFAULT 0, task_id TEXT, created REAL NOT NULL
);
CREATE INDEX utterances_context ON utterances (context_id, seq);
CREATE TABLE rooms (id TEXT PRIMARY KEY, topic TEXT NOT NULL, agents TEXT NOT NULL,
    created REAL NOT NULL);
INSERT INTO utterances (context_id, speaker, text, created) VALUES ('c1', 'mei', 'Trams.', 1);
INSERT INTO rooms VALUES ('r1', 'Trams', '["mei"]', 1);
"""


def newest() -> str:
    """The head of Podium's revisions, as the scripts in ``store/migrations`` say."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


async def revision(url: str) -> str:
    database = open_database(url)
    async with database.engine.connect() as connection:
        version = await connection.execute(
            sa.text("SELECT version_num FROM podium_alembic_version")
        )
        head = version.scalar_one()
    await database.aclose()
    return str(head)


async def test_a_fresh_store_is_created_at_the_newest_revision(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'podium.sqlite3'}"
    database = open_database(url)
    await database.start()
    await database.start()  # opening again changes nothing
    await RoomRecords(database, "http://localhost:1").add("r2", "Buses", ["shuai"])
    assert [r.topic for r in await RoomRecords(database, "http://localhost:1").all()] == ["Buses"]
    await database.aclose()
    assert await revision(url) == newest()


async def test_a_store_from_before_migrations_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "podium.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    url = f"sqlite+aiosqlite:///{path}"
    database = open_database(url)
    await database.start()
    history = await Transcript(DatabaseHistory(database)).history("c1")
    assert history == (Utterance(speaker="mei", text="Trams."),)
    assert [
        (r.id, r.agents, r.owner) for r in await RoomRecords(database, "http://localhost:1").all()
    ] == [("r1", ("mei",), "")]
    await database.aclose()
    assert await revision(url) == newest()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a database URL"),
        ("sqlite+aiosqlite:////proc/podium/podium.sqlite3", "not usable"),
        ("postgresql+asyncpg://podium@127.0.0.1:1/podium", "not usable"),
    ],
)
async def test_a_database_that_cannot_be_used_says_why_in_one_line(url: str, says: str) -> None:
    with pytest.raises(DatabaseUnavailable) as raised:
        database = open_database(url)
        try:
            await database.start()
        finally:
            await database.aclose()
    assert says in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_the_plain_postgresql_url_hosting_platforms_hand_out_means_asyncpg(
    postgres: Postgres, scheme: str
) -> None:
    plain = postgres.url().replace("postgresql+asyncpg", scheme) + "?sslmode=disable"
    database = open_database(plain)
    try:
        assert database.engine.dialect.driver == "asyncpg"
        await database.start()
        assert await database.problem() is None
    finally:
        await database.aclose()
    assert await revision(postgres.url()) == newest()
