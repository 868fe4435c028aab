"""Who an agent is: name, temperament, skills, voice and brain settings.

Personas are plain data. The server builds them from configuration; the agent services,
the router and the brains read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Temperament(StrEnum):
    """The intent family a debater is best at answering (used by the router)."""

    ANALYTICAL = "analytical"
    CREATIVE = "creative"
    MODERATOR = "moderator"


class StreamMode(StrEnum):
    """How a streamed reply reaches A2A clients."""

    ARTIFACT = "artifact"  # TaskArtifactUpdateEvent chunks appended to one artifact
    MESSAGE = "message"  # TaskStatusUpdateEvent(working) each carrying a message chunk


@dataclass(frozen=True)
class Skill:
    id: str
    name: str
    description: str
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class BrainSpec:
    """Which brain drives an agent (a ``[brain]`` table of the configuration is this)."""

    kind: Literal["scripted", "openai", "a2a"] = "scripted"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    url: str | None = None  # remote A2A agent base URL (kind == "a2a")
    seed: int = 7
    words_per_second: float = 30.0  # scripted pacing; 0 streams as fast as possible
    temperature: float = 0.8
    max_tokens: int = 220


@dataclass(frozen=True)
class Persona:
    name: str  # URL-safe id: /agents/{name}
    display_name: str
    description: str
    temperament: Temperament
    style: str  # one line the brain keeps in mind ("warm, concrete, stories about people")
    skills: tuple[Skill, ...] = ()
    voice: str = "en-us"
    color: str = "#888888"
    stream_mode: StreamMode = StreamMode.ARTIFACT
    brain: BrainSpec = field(default_factory=BrainSpec)

    def addressed_in(self, text: str) -> bool:
        """Whether ``text`` names this persona as a word (``"Mei, what do you think?"``)."""
        lowered = f" {text.lower()} "
        for name in {self.name.lower(), self.display_name.lower()}:
            for before in " ,.!?;:@\"'(":
                for after in " ,.!?;:\"')":
                    if f"{before}{name}{after}" in lowered:
                        return True
        return False


MODERATOR = Persona(
    name="moderator",
    display_name="Moderator",
    description="Runs debates between Podium's debaters: send a topic and it streams the debate.",
    temperament=Temperament.MODERATOR,
    style="neutral, brief, keeps time",
    skills=(
        Skill(
            id="debate",
            name="Run a debate",
            description="Given a topic, runs rounds of debate between the debaters and streams "
            "every turn with who is speaking in metadata.",
            tags=("debate", "moderation"),
            examples=("Should cities ban cars from their centres?",),
        ),
    ),
    voice="en-us",
    color="#6b7280",
)

MEI = Persona(
    name="mei",
    display_name="Mei",
    description="Creative, empathetic debater: argues from people, stories and values.",
    temperament=Temperament.CREATIVE,
    style="warm, imaginative, speaks about people and what they feel",
    skills=(
        Skill(
            id="empathetic-argument",
            name="Empathetic argument",
            description="Argues a position from lived experience, values and human impact.",
            tags=("creative", "empathy", "storytelling"),
            examples=("How would this change feel for a family?",),
        ),
    ),
    voice="en-us+f3",
    color="#db2777",
)

SHUAI = Persona(
    name="shuai",
    display_name="Shuai",
    description="Analytical debater: argues from evidence, numbers and trade-offs.",
    temperament=Temperament.ANALYTICAL,
    style="precise, structured, cites costs, data and trade-offs",
    skills=(
        Skill(
            id="analytical-argument",
            name="Analytical argument",
            description="Weighs evidence, costs and risks; takes claims apart step by step.",
            tags=("analysis", "data", "logic"),
            examples=("What does the evidence say about four-day work weeks?",),
        ),
    ),
    voice="en-us+m3",
    color="#2563eb",
)

DEFAULT_DEBATERS: tuple[Persona, ...] = (MEI, SHUAI)
