"""Debaters a debate request names by the URL of their A2A card (``metadata.podium.speakers``).

The moderator does not fetch cards itself: whoever runs it hands it ``Guests`` (the server's
invitations, with their address checks and limits), which turns URLs into debater names for
the debate's length and lets them go after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


def is_url(name: str) -> bool:
    """A speaker named by a URL (an agent card), not by a debater's name."""
    return name.startswith(("http://", "https://"))


class GuestRefused(Exception):
    """An agent could not be invited; the message names its URL and why."""


class Guests(Protocol):
    async def invite(self, urls: Sequence[str], local: Sequence[str]) -> list[str]:
        """Debater names for the agents at ``urls`` (next to the debaters ``local``), ready to
        take turns; raises ``GuestRefused``, leaving nothing invited, if one cannot be."""
        ...

    async def release(self, names: Sequence[str]) -> None:
        """The debate is over: the agents ``names`` are let go."""
        ...
