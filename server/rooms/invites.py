"""Agents invited into a room by the URL of their A2A card.

The card is fetched with the push notifications' address checks (private, loopback and
link-local hosts refused unless ``remote_agents.allow_private_urls``; each redirect checked
again), within ``remote_agents.timeout``, and checked: a name, an A2A interface (1.0 or 0.3)
or a 0.3 card's URL, and streaming. The agent gets a voice and a colour no other agent of the
room has, and becomes a debater of that room only (``AgentDirectory.invite``): its answers are
voiced like a configured remote debater's, its progress notes shown.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from urllib.parse import urlparse

import httpx
from a2a.types import a2a_pb2 as pb
from google.protobuf.json_format import ParseDict, ParseError

from agents.debate.guests import GuestRefused
from agents.persona import BrainSpec, Persona, Temperament
from server.http.checked_fetch import FetchRefused, fetch_checked
from server.http.errors import BadRequest, PodiumError
from server.runtime import Runtime
from server.settings import Settings

CARD_PATH = "/.well-known/agent-card.json"
MAX_CARD = 256 * 1024
VOICES = ("en-gb+m3", "en-us+f4", "en-gb+f3", "en-us+m7", "en-gb+m5", "en-us+f2")
COLORS = ("#059669", "#d97706", "#7c3aed", "#0891b2", "#be123c", "#4d7c0f")


class CardRefused(PodiumError):
    """The URL answers, but not with an A2A agent card Podium can debate with."""

    status_code = 422


def card_url(url: str) -> str:
    """Where the card is: the URL itself when it names a JSON file, else its well-known path."""
    return url if urlparse(url).path.endswith(".json") else url.rstrip("/") + CARD_PATH


async def fetch_card(url: str, http: httpx.AsyncClient, allow_private: bool) -> pb.AgentCard:
    """The agent card at (or under) ``url``, checked; BadRequest / CardRefused saying why."""
    try:
        where = card_url(url)
    except ValueError as error:
        raise BadRequest(f"agent {url}: not a URL ({error})") from error
    try:
        body = await fetch_checked(where, http, allow_private, MAX_CARD)
    except FetchRefused as refused:
        kind = BadRequest if refused.address else CardRefused
        raise kind(f"agent {url}: its card: {refused}") from refused
    return _checked(url, body)


def _checked(url: str, body: bytes) -> pb.AgentCard:
    try:
        raw = json.loads(body)
    except ValueError as error:
        raise CardRefused(f"agent {url}: its card is not JSON") from error
    if not isinstance(raw, dict):
        raise CardRefused(f"agent {url}: its card is not a JSON object")
    card = pb.AgentCard()
    try:
        ParseDict(raw, card, ignore_unknown_fields=True)
    except ParseError as error:
        raise CardRefused(f"agent {url}: not an A2A agent card ({error})") from error
    versions = {i.protocol_version for i in card.supported_interfaces}
    legacy = isinstance(raw.get("url"), str) and str(raw.get("protocolVersion", "")).startswith(
        "0."
    )
    if not card.name.strip():
        raise CardRefused(f"agent {url}: its card has no name")
    if not (versions & {"1.0", "0.3"}) and not legacy:
        raise CardRefused(f"agent {url}: its card names no A2A 1.0 or 0.3 interface")
    if not card.capabilities.streaming and not raw.get("capabilities", {}).get("streaming"):
        raise CardRefused(f"agent {url}: it does not stream (capabilities.streaming)")
    return card


def invited_persona(
    card: pb.AgentCard, url: str, taken_names: set[str], taken_voices: set[str]
) -> Persona:
    """A debater persona for the invited agent: a name, voice and colour of its own."""
    slug = re.sub(r"[^a-z0-9]+", "-", card.name.lower()).strip("-")[:20] or "guest"
    name = f"{slug}-{hashlib.sha1(url.encode()).hexdigest()[:4]}"
    while name in taken_names:
        name += "x"
    voice = next((v for v in VOICES if v not in taken_voices), VOICES[len(taken_voices) % 6])
    color = COLORS[int(hashlib.sha1(name.encode()).hexdigest(), 16) % len(COLORS)]
    return Persona(
        name=name,
        display_name=card.name[:60],
        description=(card.description or "A remote A2A agent")[:300],
        temperament=Temperament.ANALYTICAL,
        style="as its own service answers",
        voice=voice,
        color=color,
        brain=BrainSpec(kind="a2a", url=url.removesuffix(CARD_PATH)),
    )


def described(personas: Sequence[Persona], urls: Sequence[str]) -> dict[str, dict[str, str]]:
    """Invited agents as room info shows them (name → display name, colour, card URL)."""
    return {
        p.name: {"display_name": p.display_name, "color": p.color, "card_url": url}
        for p, url in zip(personas, urls, strict=True)
    }


class Invites:
    """Invites agents into rooms and lets them go when the room closes."""

    def __init__(self, runtime: Runtime, settings: Settings, http: httpx.AsyncClient) -> None:
        self._runtime, self._settings, self._http = runtime, settings, http
        self.by_room: dict[str, list[Persona]] = {}
        self.per_room = settings.remote_agents.per_room

    async def invite(self, urls: list[str], local: list[str]) -> list[Persona]:
        """Personas for the agents at ``urls`` (next to the local debaters ``local``), their
        services running; nothing is left running if one of them is refused."""
        if len(urls) > self.per_room:
            raise BadRequest(f"at most {self.per_room} agents can be invited by URL at once")
        allow = self._settings.remote_agents.allow_private_urls
        cards = [await fetch_card(url, self._http, allow) for url in urls]
        directory = self._runtime.directory
        taken = set(local)
        voices = {s.persona.voice for n in local if (s := directory.get(n)) is not None}
        personas = []
        for url, card in zip(urls, cards, strict=True):
            persona = invited_persona(card, url, taken | set(directory.invited), voices)
            taken.add(persona.name)
            voices.add(persona.voice)
            personas.append(persona)
        for persona in personas:
            self._runtime.invite(persona, self._settings)
        return personas

    async def reinvite(
        self, room_id: str, urls: list[str], local: list[str]
    ) -> dict[str, dict[str, str]]:
        """A reopened room's agents invited by URL, invited again (``Rooms.reinvite``)."""
        personas = await self.invite(urls, local)
        self.attach(room_id, personas)
        return described(personas, urls)

    def attach(self, room_id: str, personas: list[Persona]) -> None:
        if personas:
            self.by_room[room_id] = personas

    async def release(self, room_id: str, personas: list[Persona] | None = None) -> None:
        for persona in personas or self.by_room.pop(room_id, []):
            await self._runtime.uninvite(persona.name)

    async def uninvite(self, name: str) -> None:
        await self._runtime.uninvite(name)


class DebateGuests:
    """The moderator's ``Guests``: speakers a debate names by URL, invited with the same checks
    and limit as a room's, for the debate's length."""

    def __init__(self, invites: Invites) -> None:
        self._invites = invites

    async def invite(self, urls: Sequence[str], local: Sequence[str]) -> list[str]:
        try:
            personas = await self._invites.invite(list(urls), list(local))
        except PodiumError as refused:
            raise GuestRefused(str(refused)) from refused
        return [p.name for p in personas]

    async def release(self, names: Sequence[str]) -> None:
        for name in names:
            await self._invites.uninvite(name)
