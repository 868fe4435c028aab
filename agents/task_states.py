"""A2A task states Podium names: the terminal ones, by their short names."""

from __future__ import annotations

from a2a.types import a2a_pb2 as pb

TERMINAL_STATES: dict[int, str] = {
    pb.TaskState.TASK_STATE_COMPLETED: "completed",
    pb.TaskState.TASK_STATE_CANCELED: "canceled",
    pb.TaskState.TASK_STATE_FAILED: "failed",
    pb.TaskState.TASK_STATE_REJECTED: "rejected",
}


def terminal_name(state: int) -> str | None:
    """``"completed"``, ``"canceled"``, ``"failed"`` or ``"rejected"``; None while live."""
    return TERMINAL_STATES.get(state)
