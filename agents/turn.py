"""One agent turn as its starter sees it, and why a turn is being canceled.

``AgentService.start`` returns a :class:`Turn` (the task id, then the task's events);
``AgentService.cancel`` carries a :class:`CancelReason` to the executor through the SDK's
call context, so the canceled task's status says who cut it and why.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from a2a.server.context import ServerCallContext
from a2a.types import a2a_pb2 as pb

_CANCEL_KEY = "podium.cancel_reason"


@dataclass(frozen=True)
class CancelReason:
    reason: str = "canceled by client"
    by: str | None = None  # who cut in
    kind: str | None = None  # "human", "agent", "typed", "superseded", "closed", "shutdown"
    trail: float = 0.0  # seconds a voice may trail off under the interrupter

    def metadata(self) -> dict[str, Any]:
        """What the canceled task's status metadata says (``trail`` is delivery-only)."""
        why: dict[str, Any] = {"reason": self.reason}
        if self.by:
            why["by"] = self.by
        if self.kind:
            why["interruption"] = self.kind
        return why

    @property
    def state(self) -> int:
        """The state the stopped task ends in: canceled, or failed when the server stops it."""
        return (
            pb.TaskState.TASK_STATE_FAILED
            if self.kind == "shutdown"
            else pb.TaskState.TASK_STATE_CANCELED
        )

    def into(self, context: ServerCallContext) -> ServerCallContext:
        context.state[_CANCEL_KEY] = self
        return context

    @staticmethod
    def of(context: ServerCallContext | None) -> CancelReason:
        found = context.state.get(_CANCEL_KEY) if context is not None else None
        return found if isinstance(found, CancelReason) else CancelReason()


_NEW_CONTEXT_KEY = "podium.new_context"
_NEW_TASK_KEY = "podium.new_task"
_FOLLOWED_KEY = "podium.followed"


def mark_followed(context: ServerCallContext) -> None:
    """The caller follows the turn as it goes: it streams it (in-process or over A2A), gets
    its task at once (``return_immediately``) or has its events pushed. A blocking
    ``SendMessage`` sees only the end."""
    context.state[_FOLLOWED_KEY] = True


def is_followed(context: ServerCallContext | None) -> bool:
    return context is not None and bool(context.state.get(_FOLLOWED_KEY))


def mark_new_context(context: ServerCallContext) -> None:
    """The message named no context or task: the server makes a new context, with no history."""
    context.state[_NEW_CONTEXT_KEY] = True
    context.state[_NEW_TASK_KEY] = True


def is_new_context(context: ServerCallContext | None) -> bool:
    return context is not None and bool(context.state.get(_NEW_CONTEXT_KEY))


def unsaved_new_task(context: ServerCallContext, task_id: str) -> bool:
    """Whether ``task_id`` is the task just made for a new-context request and not saved yet
    (so it cannot be in the store). The request's first lookup names that task."""
    fresh = context.state.get(_NEW_TASK_KEY)
    if fresh is True:
        context.state[_NEW_TASK_KEY] = fresh = task_id
    return bool(fresh == task_id)


def new_task_saved(context: ServerCallContext, task_id: str) -> None:
    """From its first save on, the task is looked up like any other."""
    if context.state.get(_NEW_TASK_KEY) in (True, task_id):
        del context.state[_NEW_TASK_KEY]


SHUTDOWN = CancelReason("the server is shutting down", by="server", kind="shutdown")


@dataclass
class Turn:
    """A started turn: its A2A task id, then the rest of the task's events."""

    task_id: str
    context_id: str
    events: AsyncGenerator[Any, None]

    async def aclose(self) -> None:
        await self.events.aclose()
