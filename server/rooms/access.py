"""Who may do what in a room: its owner everything; a room link's holder listens, or also
speaks, and nothing else; anyone else does not see the room at all (404, as for no room)."""

from __future__ import annotations

from typing import Literal

from server.auth.principal import Principal
from server.http.errors import Forbidden, NotFound
from server.rooms.room import Room
from server.rooms.rooms import Rooms

Need = Literal["see", "speak", "own"]


def sees(principal: Principal, room_id: str, owner: str) -> bool:
    if principal.is_room_guest:
        return principal.room == room_id
    return principal.name == owner


def room_for(rooms: Rooms, room_id: str, principal: Principal, need: Need = "see") -> Room:
    """The room, if ``principal`` may do ``need`` in it; else NotFound / Forbidden."""
    room = rooms.get(room_id)
    if not sees(principal, room_id, room.owner):
        raise NotFound(f"unknown room {room_id!r}")
    if need == "speak" and not principal.may_speak():
        raise Forbidden("this room link lets you listen, not speak")
    if need == "own" and principal.is_room_guest:
        raise Forbidden("only the room's owner can do this; a room link cannot")
    return room
