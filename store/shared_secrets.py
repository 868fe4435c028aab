"""A secret all replicas of one database share: made at random by the first replica that asks,
read by the others (so nothing more needs configuring to run replicas)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from store.database import Database
from store.tables import shared_secrets


async def shared_secret(database: Database, name: str) -> bytes:
    """The secret called ``name``, created if no replica made it yet."""
    select = sa.select(shared_secrets.c.value).where(shared_secrets.c.name == name)
    async with database.engine.connect() as connection:
        found = (await connection.execute(select)).scalar_one_or_none()
    if found is None:
        try:
            async with database.engine.begin() as connection:
                insert = shared_secrets.insert().values(name=name, value=secrets.token_hex(32))
                await connection.execute(insert)
        except IntegrityError:
            pass  # another replica made it at the same moment: theirs counts
        async with database.engine.connect() as connection:
            found = (await connection.execute(select)).scalar_one()
    return bytes.fromhex(found)
