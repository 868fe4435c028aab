"""Podium's own tables (the SDK owns ``tasks``): conversation history and rooms on record.

Schema changes are Alembic revisions in ``store/migrations/versions``; these definitions are
what the newest revision leaves, used by the code that reads and writes them.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

utterances = sa.Table(
    "utterances",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("context_id", sa.Text, nullable=False),
    sa.Column("speaker", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("interrupted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("task_id", sa.Text),
    sa.Column("created", sa.Float, nullable=False),
    sa.Index("utterances_context", "context_id", "seq"),
)

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("agents", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("replica", sa.Text),  # the internal URL of the replica that holds the room
    sa.Column("heartbeat", sa.Float, nullable=False, server_default="0"),  # its last, epoch s
    sa.Column("owner", sa.Text, nullable=False, server_default=""),  # the principal's name
)
