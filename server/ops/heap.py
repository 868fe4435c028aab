"""Keeps the garbage collector's pauses off the media clock.

A full collection walks every object the process holds: in a server that has imported the
A2A protocol, SQLAlchemy, aiortc and the speech engines, about 240,000 of them at start,
which took 200 ms on a 2-core machine (up to a second in a process that had run for a
while). The mix runs on the same event loop every 20 ms, so such a pause is heard as a gap
by every listener of every room. What exists once the server has started (modules,
engines, settings) lives as long as the process: it is collected once and then frozen
(``gc.freeze``), so later collections walk only what rooms and requests make.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def settle() -> None:
    """Collects what start-up left behind, then takes the survivors out of later collections."""
    began = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.debug(
        "%d objects kept out of collections (%.0f ms)",
        gc.get_freeze_count(),
        (time.perf_counter() - began) * 1000,
    )
