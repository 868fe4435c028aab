"""The room heartbeat and a delete at once: the delete closes its room, the heartbeat does not
take the missing record for another replica's claim."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from server.app import create_app
from server.replicas.room_leases import RoomLeases
from tests.serving import free_port, podium_settings


async def test_a_heartbeat_inside_a_delete_leaves_the_room_to_the_delete(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(podium_settings(tmp_path, free_port()))
    async with app.router.lifespan_context(app):
        rooms = app.state.rooms
        records = rooms._records
        room = await rooms.create("Trams", ["mei"], "")
        removed, go_on = asyncio.Event(), asyncio.Event()
        remove = records.remove

        async def held_after_removal(room_id: str) -> None:
            await remove(room_id)
            removed.set()
            await go_on.wait()  # the heartbeat beats here, the record gone, the room not closed

        records.remove = held_after_removal
        deleting = asyncio.create_task(rooms.delete(room.id))
        try:
            await asyncio.wait_for(removed.wait(), 10)
            with caplog.at_level(logging.WARNING, logger="server.replicas.room_leases"):
                await RoomLeases(rooms, records, lease=30.0, shared=False).beat()
            assert rooms.has(room.id), "the heartbeat left the room to its delete"
            assert not [r for r in caplog.records if "held elsewhere" in r.getMessage()]
            go_on.set()
            await asyncio.wait_for(deleting, 10)
            assert not rooms.has(room.id) and not rooms.deleting(room.id)
        finally:
            go_on.set()
            deleting.cancel()
            await asyncio.wait({deleting})
