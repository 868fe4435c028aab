"""Podium's own tables (the SDK owns ``tasks``): conversation history, rooms on record, and
replicas with the turns each runs.

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

replicas = sa.Table(
    "replicas",
    metadata,
    sa.Column("replica", sa.Text, primary_key=True),  # its internal URL
    sa.Column("heartbeat", sa.Float, nullable=False),  # its last, epoch s
)

running_tasks = sa.Table(
    "running_tasks",
    metadata,
    sa.Column("task_id", sa.Text, primary_key=True),
    sa.Column("agent", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),  # the principal the turn runs for
    sa.Column("replica", sa.Text, nullable=False),  # the replica running it
    sa.Column("started", sa.Float, nullable=False),
    sa.Index("running_tasks_replica", "replica"),
)

shared_secrets = sa.Table(
    "shared_secrets",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),  # what it signs ("forwarding")
    sa.Column("value", sa.Text, nullable=False),  # random, made by the first replica
)

rate_buckets = sa.Table(
    "rate_buckets",
    metadata,
    sa.Column("kind", sa.Text, primary_key=True),  # tasks, rooms, joins, audio_bytes
    sa.Column("key", sa.Text, primary_key=True),  # principal:<name> or address:<ip>
    sa.Column("tokens", sa.Float, nullable=False),  # as of ``updated``
    sa.Column("updated", sa.Float, nullable=False),  # epoch s
)

recordings = sa.Table(
    "recordings",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("room_id", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),  # the room owner's principal name
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("agents", sa.Text, nullable=False),  # JSON list
    sa.Column("started", sa.Float, nullable=False),  # epoch s
    sa.Column("ended", sa.Float),  # epoch s; None while recording (or cut short by a crash)
    sa.Column("duration", sa.Float, nullable=False, server_default="0"),  # s stored so far
    sa.Column("size", sa.Integer, nullable=False, server_default="0"),  # bytes stored so far
    sa.Column("state", sa.Text, nullable=False),  # recording, finished, failed
    sa.Column("reason", sa.Text),  # why it stopped
    sa.Column("heartbeat", sa.Float, nullable=False),  # its recorder's last store, epoch s
    sa.Index("recordings_owner", "owner", "started"),
)

recording_chunks = sa.Table(
    "recording_chunks",
    metadata,
    sa.Column("recording_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("offset", sa.Integer, nullable=False),  # of its first byte in the file
    sa.Column("data", sa.LargeBinary, nullable=False),  # whole Ogg pages
)

recording_events = sa.Table(
    "recording_events",
    metadata,
    sa.Column("recording_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("t", sa.Float, nullable=False),  # seconds into the recording
    sa.Column("body", sa.Text, nullable=False),  # the room event's JSON
)
