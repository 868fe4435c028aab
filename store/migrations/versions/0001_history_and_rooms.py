"""Conversation history and rooms on record.

Stores written before migrations existed already hold these tables: they are kept as they are.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "utterances" not in existing:
        op.create_table(
            "utterances",
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("context_id", sa.Text, nullable=False),
            sa.Column("speaker", sa.Text, nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("interrupted", sa.Integer, nullable=False, server_default="0"),
            sa.Column("task_id", sa.Text),
            sa.Column("created", sa.Float, nullable=False),
        )
        op.create_index("utterances_context", "utterances", ["context_id", "seq"])
    if "rooms" not in existing:
        op.create_table(
            "rooms",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("topic", sa.Text, nullable=False),
            sa.Column("agents", sa.Text, nullable=False),
            sa.Column("created", sa.Float, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("rooms")
    op.drop_index("utterances_context", table_name="utterances")
    op.drop_table("utterances")
