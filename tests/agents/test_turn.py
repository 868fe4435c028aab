"""What a request's call context says about its task: new context, a fresh task until saved."""

from __future__ import annotations

from agents.service import call_context
from agents.turn import is_new_context, mark_new_context, new_task_saved, unsaved_new_task


def test_a_new_contexts_task_is_fresh_until_its_first_save_then_looked_up_as_any() -> None:
    context = call_context()
    assert not is_new_context(context) and not unsaved_new_task(context, "t1")
    mark_new_context(context)
    assert is_new_context(context)
    assert unsaved_new_task(context, "t1"), "the first lookup names the task made for it"
    assert unsaved_new_task(context, "t1"), "and it stays fresh until saved"
    assert not unsaved_new_task(context, "other"), "no other task is assumed missing"
    new_task_saved(context, "t1")
    assert not unsaved_new_task(context, "t1"), "once saved, a lookup is real"
    assert is_new_context(context), "its context had no history all the same"
