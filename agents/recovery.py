"""Start-up repair: tasks left ``submitted``/``working`` by a dead process end ``failed``."""

from __future__ import annotations

from a2a.server.tasks import TaskStore
from a2a.types import a2a_pb2 as pb

from agents.service import call_context

_LIVE = (pb.TaskState.TASK_STATE_SUBMITTED, pb.TaskState.TASK_STATE_WORKING)
RESTART_REASON = "The server stopped while this task was running; it did not finish."


async def fail_orphaned_tasks(
    store: TaskStore, owner: str = "", reason: str = RESTART_REASON
) -> int:
    """Marks every live task of ``owner`` in ``store`` failed with ``reason``; returns how
    many."""
    context = call_context(owner)
    orphans: list[pb.Task] = []
    for state in _LIVE:
        token = ""
        while True:
            page = await store.list(
                pb.ListTasksRequest(status=state, page_size=100, page_token=token), context
            )
            orphans.extend(page.tasks)
            token = page.next_page_token
            if not token:
                break
    for task in orphans:
        task.status.state = pb.TaskState.TASK_STATE_FAILED
        task.status.message.CopyFrom(
            pb.Message(
                message_id=f"{task.id}-restart",
                role=pb.Role.ROLE_AGENT,
                task_id=task.id,
                context_id=task.context_id,
                parts=[pb.Part(text=reason)],
            )
        )
        task.status.timestamp.GetCurrentTime()
        await store.save(task, context)
    return len(orphans)
