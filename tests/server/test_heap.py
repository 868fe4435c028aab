"""The server's start-up heap: garbage collected, the survivors kept out of later walks."""

from __future__ import annotations

import gc
import weakref

from server.ops import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a full collection frees it


def test_start_up_garbage_is_freed_and_what_lives_on_is_frozen() -> None:
    gc.disable()  # no automatic collection in between: what frees the garbage is settle()
    try:
        garbage = Node()
        gone = weakref.ref(garbage)
        del garbage
        kept = Node()
        before = gc.get_freeze_count()
        heap.settle()
    finally:
        gc.enable()
    assert gone() is None, "garbage is collected first, never frozen for good"
    assert gc.get_freeze_count() > before
    assert all(o is not kept for o in gc.get_objects()), "later collections skip what lives on"
