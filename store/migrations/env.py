"""Alembic environment for Podium's tables; run by ``store.database.Database.migrate``.

The connection comes from the caller (``config.attributes["connection"]``); Podium's revisions
are tracked in their own version table, apart from the SDK's (``a2a_alembic_version``).
"""

from __future__ import annotations

from alembic import context

from store.tables import metadata

VERSION_TABLE = "podium_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
