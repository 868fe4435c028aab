"""Who a task, a conversation and a debate belong to.

The a2a-sdk scopes every task to its call context's user; Podium does the same for what it
keeps itself. A principal's conversation ``X`` is kept under its own key, so two principals
naming the same context id never read or write each other's history or join each other's
debate. In-process calls made on a principal's behalf (a debate's turns) carry its name, so
the turns belong to it too. The empty name is the anonymous caller of a server without
authentication, and the server's own rooms; its keys are the context ids themselves.
"""

from __future__ import annotations

from a2a.auth.user import User
from a2a.server.context import ServerCallContext

SEPARATOR = "\x1f"  # cannot appear in a principal's name


class Owner(User):
    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def is_authenticated(self) -> bool:
        return bool(self._name)

    @property
    def user_name(self) -> str:
        return self._name


def owner_context(owner: str = "") -> ServerCallContext:
    """The call context for an in-process call on behalf of ``owner``."""
    return ServerCallContext(user=Owner(owner)) if owner else ServerCallContext()


def owner_of(context: ServerCallContext | None) -> str:
    return context.user.user_name if context is not None else ""


def conversation_key(owner: str, context_id: str) -> str:
    """Where ``owner``'s conversation ``context_id`` is kept (history, debates, floors)."""
    return f"{owner}{SEPARATOR}{context_id}" if owner else context_id
