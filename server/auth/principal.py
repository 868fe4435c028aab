"""The authenticated caller, as the rest of the server sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.authentication import BaseUser

Grant = Literal["listen", "speak"]
GRANTS: tuple[Grant, ...] = ("listen", "speak")


@dataclass(frozen=True)
class Principal:
    """Who made a request.

    ``name`` is the owner of what the caller creates (tasks, contexts, rooms); it is empty for
    the anonymous caller of a server without authentication (local development), which owns
    everything made there. A room link's holder has ``room`` and ``grant`` and can do nothing
    beyond that room.
    """

    name: str
    kind: Literal["anonymous", "key", "jwt", "room"] = "anonymous"
    room: str | None = None
    grant: Grant | None = None

    @property
    def is_room_guest(self) -> bool:
        return self.kind == "room"

    def may_speak(self) -> bool:
        return not self.is_room_guest or self.grant == "speak"


ANONYMOUS = Principal("")


class PodiumUser(BaseUser):
    """The principal as a Starlette user: the a2a-sdk reads ``display_name`` into its call
    context, whose owner scoping then keeps each principal's tasks apart."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @property
    def is_authenticated(self) -> bool:
        return self.principal.kind != "anonymous"

    @property
    def display_name(self) -> str:
        return self.principal.name

    @property
    def identity(self) -> str:
        return self.principal.name
