"""Repair: tasks left ``submitted``/``working`` by a dead process end ``failed``.

One process repairs its store at start-up (``fail_orphaned_tasks``). Replicas sharing a
database repair one task at a time, when the replica that ran it stopped
(``fail_abandoned_task``, from ``server.replicas.task_leases``): the failure is a versioned
save with its event, so whoever follows the task on any replica sees it end.
"""

from __future__ import annotations

from a2a.server.cluster import (
    ConcurrentTaskModificationError,
    TaskEventStream,
    VersionedEvent,
    VersionedTaskStore,
)
from a2a.server.tasks import TaskStore
from a2a.types import a2a_pb2 as pb

from agents.service import call_context

_LIVE = (pb.TaskState.TASK_STATE_SUBMITTED, pb.TaskState.TASK_STATE_WORKING)
RESTART_REASON = "The server stopped while this task was running; it did not finish."
ABANDONED_REASON = "The replica running this task stopped; it did not finish."


def _failed(task: pb.Task, reason: str) -> None:
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


async def fail_abandoned_task(
    store: VersionedTaskStore,
    events: TaskEventStream | None,
    task_id: str,
    owner: str,
    reason: str = ABANDONED_REASON,
) -> bool:
    """Ends ``task_id`` ``failed`` if it is still running; True when this call ended it."""
    context = call_context(owner)
    for _ in range(3):  # another writer got in first: look again
        stored = await store.get(task_id, context)
        if stored is None or stored.task.status.state not in _LIVE:
            return False
        task = pb.Task()
        task.CopyFrom(stored.task)
        _failed(task, reason)
        event = pb.TaskStatusUpdateEvent(
            task_id=task.id, context_id=task.context_id, status=task.status
        )
        try:
            version = await store.save(
                task, event=event, prev=stored.task, prev_version=stored.version, context=context
            )
        except ConcurrentTaskModificationError:
            continue
        if events is not None:
            await events.publish(task_id, VersionedEvent(event=event, version=version))
        return True
    return False


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
        _failed(task, reason)
        await store.save(task, context)
    return len(orphans)
