"""Rooms record the replica that holds them and its last heartbeat.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rooms") as table:
        table.add_column(sa.Column("replica", sa.Text, nullable=True))
        table.add_column(sa.Column("heartbeat", sa.Float, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as table:
        table.drop_column("heartbeat")
        table.drop_column("replica")
