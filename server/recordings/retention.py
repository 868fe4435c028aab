"""Retention: recordings older than ``recordings.retention_days`` are deleted, checked at
start and every hour (by every replica; deleting one twice is harmless)."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from store.recordings import RecordingStore

log = logging.getLogger(__name__)
EVERY = 3600.0


async def expire(store: RecordingStore, days: float, every: float = EVERY) -> None:
    while True:
        try:
            old = await store.older_than(time.time() - days * 86_400)
            for recording_id in old:
                await store.delete(recording_id)
            if old:
                log.info("deleted %d recording(s) older than %g days", len(old), days)
        except (SQLAlchemyError, OSError) as error:
            log.warning("recordings were not expired (database: %s); trying again later", error)
        await asyncio.sleep(every)
