"""Replicas' heartbeats and the turns each one runs: a dead replica's turns end ``failed``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replicas",
        sa.Column("replica", sa.Text, primary_key=True),
        sa.Column("heartbeat", sa.Float, nullable=False),
    )
    op.create_table(
        "running_tasks",
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("replica", sa.Text, nullable=False),
        sa.Column("started", sa.Float, nullable=False),
    )
    op.create_index("running_tasks_replica", "running_tasks", ["replica"])


def downgrade() -> None:
    op.drop_index("running_tasks_replica", "running_tasks")
    op.drop_table("running_tasks")
    op.drop_table("replicas")
