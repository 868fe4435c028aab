"""Configuration: defaults < TOML file (``PODIUM_CONFIG`` or ``./podium.toml``) < environment.

Environment variables use the ``PODIUM_`` prefix and ``__`` for nesting
(``PODIUM_BRAIN__KIND=openai``). ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` switch the default
brain to an OpenAI-compatible endpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from agents import persona as p
from agents.floor.arbiter import FloorPolicy
from agents.podium_meta import MAX_ROUNDS
from media.end_of_turn import EndOfTurnConfig
from media.vad import VadConfig
from server.http.ratelimit import Rate
from server.settings_sources import DeprecatedEnvironment, deprecated_flat_keys, json_lists
from server.webrtc import WebRtcSettings

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    """A table of the config file: an unknown key is an error that names it, not ignored."""

    model_config = ConfigDict(extra="forbid")


class SpeechSettings(_Strict):
    """Speech engines: offline by default, or an OpenAI-compatible audio endpoint."""

    stt: Literal["pocketsphinx", "openai"] = "pocketsphinx"
    tts: Literal["espeak", "openai"] = "espeak"
    base_url: str | None = None
    api_key: str | None = None
    stt_model: str = "whisper-1"
    tts_model: str = "tts-1"


class SkillSettings(_Strict):
    id: str
    name: str
    description: str
    tags: list[str] = []
    examples: list[str] = []


class PersonaSettings(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    display_name: str
    description: str
    temperament: p.Temperament
    style: str = ""
    skills: list[SkillSettings] = []
    voice: str = "en-us"
    color: str = "#888888"
    stream_mode: p.StreamMode = p.StreamMode.ARTIFACT
    brain: p.BrainSpec | None = None

    @classmethod
    def of(cls, persona: p.Persona) -> PersonaSettings:
        return cls(
            name=persona.name,
            display_name=persona.display_name,
            description=persona.description,
            temperament=persona.temperament,
            style=persona.style,
            skills=[
                SkillSettings(
                    id=s.id,
                    name=s.name,
                    description=s.description,
                    tags=list(s.tags),
                    examples=list(s.examples),
                )
                for s in persona.skills
            ],
            voice=persona.voice,
            color=persona.color,
        )

    def persona(self, default_brain: p.BrainSpec) -> p.Persona:
        return p.Persona(
            name=self.name,
            display_name=self.display_name,
            description=self.description,
            temperament=self.temperament,
            style=self.style,
            skills=tuple(
                p.Skill(s.id, s.name, s.description, tuple(s.tags), tuple(s.examples))
                for s in self.skills
            ),
            voice=self.voice,
            color=self.color,
            stream_mode=self.stream_mode,
            brain=self.brain or default_brain,
        )


class RoomSettings(_Strict):
    """``[rooms]``: how many rooms, and who fits in one."""

    max_rooms: int = Field(default=12, ge=1, description="rooms per server")
    max_speakers: int = Field(default=8, ge=1, description="people who speak, per room")
    max_listeners: int = Field(default=200, ge=0, description="listeners per room")
    peer_timeout: float = Field(
        default=6.0, ge=1.0, le=60.0, description="seconds before a silent peer is dropped"
    )


class RemoteAgentSettings(_Strict):
    """``[remote_agents]``: agents a room's owner invites by the URL of their card."""

    allow_private_urls: bool = Field(
        default=False, description="allow cards on loopback, private and link-local addresses"
    )
    timeout: float = Field(default=10.0, gt=0, le=60, description="seconds to fetch a card")
    per_room: int = Field(default=4, ge=0, le=8, description="invited agents per room")


class RecordingSettings(_Strict):
    """``[recordings]``: rooms recorded to the database (audio and transcript)."""

    retention_days: float = Field(
        default=30.0, ge=0, description="recordings older than this are deleted; 0: kept"
    )
    store_seconds: float = Field(
        default=2.0, ge=0.2, le=30.0, description="audio stored this often (lost on a crash)"
    )


_END = EndOfTurnConfig()


class VoiceSettings(_Strict):
    """``[voice]``: hearing people (VAD, end of turn, jitter) and the agents' speaking rate.
    Defaults are the media layer's own (``VadConfig``, ``EndOfTurnConfig``)."""

    aggressiveness: int = Field(default=VadConfig.aggressiveness, ge=0, le=3)
    end_complete: float = Field(
        default=_END.complete, ge=0.1, le=3.0, description="silence after a finished sentence"
    )
    end_unsure: float = Field(
        default=_END.unsure, ge=0.1, le=3.0, description="silence that ends anything else"
    )
    end_unfinished: float = Field(
        default=_END.incomplete, ge=0.1, le=3.0, description="silence after 'I think that'"
    )
    jitter_packets: int = Field(
        default=0,
        ge=0,
        le=8,
        description="inbound jitter depth (20 ms packets; 0: each packet on as it arrives)",
    )
    end_fallback: float = Field(
        default=_END.fallback,
        ge=0.3,
        le=5.0,
        description="silence after a voice that sounds unfinished",
    )
    turn_model: bool = Field(
        default=VadConfig.turn_model, description="pauses judged by the end-of-turn model"
    )
    turn_weights: Path | None = Field(
        default=None, description="the end-of-turn model's ONNX file; empty: the installed one"
    )
    words_per_minute: int = Field(default=175, ge=80, le=450, description="eSpeak NG's rate")
    hold_on_breath: bool = Field(
        default=VadConfig.suspect_onsets,
        description="a speaking agent pauses at the breath or hiss of an 'h', 's', 'sh' onset",
    )
    sentence_ends: bool = Field(
        default=VadConfig.sentence_ends,
        description="the words weighed by where sentences end (the recognizer's language model)",
    )

    def vad(self) -> VadConfig:
        end = EndOfTurnConfig(
            complete=self.end_complete,
            unsure=self.end_unsure,
            incomplete=self.end_unfinished,
            fallback=self.end_fallback,
        )
        return VadConfig(
            aggressiveness=self.aggressiveness,
            end_of_turn=end,
            turn_model=self.turn_model,
            turn_weights=self.turn_weights,
            suspect_onsets=self.hold_on_breath,
            sentence_ends=self.sentence_ends,
        )


class DebateSettings(_Strict):
    """``[debate]``: a debate's default length and order, and the text debates' clock."""

    rounds: int = Field(default=2, ge=1, le=MAX_ROUNDS)
    order: list[str] = []
    text_wpm: int = Field(default=300, ge=0, description="text debates' speaking clock (0: off)")


class ReplicaSettings(_Strict):
    """``[replicas]``: replicas sharing one PostgreSQL (``database_url``)."""

    url: str = Field(default="", description="this replica as the others reach it; empty: base")
    room_lease: float = Field(
        default=4.0, ge=1.0, le=120.0, description="seconds a room outlives its replica's beat"
    )
    task_lease: float = Field(
        default=4.0, ge=1.0, le=120.0, description="seconds a running task outlives its replica"
    )


class ApiKey(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@+-]{1,64}$", description="the principal's name")
    key: str = Field(min_length=16, max_length=512)


class AuthSettings(_Strict):
    """Authentication: off (local development) unless API keys or an identity provider are
    set. ``api_keys`` items are keys (the principal is named after the key's digest) or
    ``{name, key}`` tables."""

    api_keys: list[Annotated[str, Field(min_length=16, max_length=512)] | ApiKey] = []
    jwt_jwks_url: str = ""
    jwt_audience: str = ""
    jwt_issuer: str = ""
    token_secret: str = Field(
        default="",
        pattern=r"^(.{32,})?$",
        description="signs room links (32+ characters); empty: generated once in data_dir",
    )
    room_link_ttl: float = Field(default=86_400.0, gt=0, le=30 * 86_400)

    @property
    def enabled(self) -> bool:
        return bool(self.api_keys or self.jwt_jwks_url)

    def keys(self) -> dict[str, str]:
        """Each API key and the name of its principal."""
        named: dict[str, str] = {}
        for item in self.api_keys:
            if isinstance(item, ApiKey):
                named[item.key] = item.name
            else:
                named[item] = "key-" + hashlib.sha256(item.encode()).hexdigest()[:12]
        return named


class LimitSettings(_Strict):
    """Token buckets per principal and per (non-loopback) client address: a rate per second
    and a burst. 0 turns a kind off."""

    tasks_per_second: float = Field(default=5.0, ge=0)
    tasks_burst: float = Field(default=60.0, ge=1)
    rooms_per_second: float = Field(default=0.2, ge=0)
    rooms_burst: float = Field(default=10.0, ge=1)
    joins_per_second: float = Field(default=1.0, ge=0)
    joins_burst: float = Field(default=30.0, ge=1)
    audio_bytes_per_second: float = Field(default=64_000.0, ge=0, description="2x real time")
    audio_burst_bytes: float = Field(default=256_000.0, ge=1)

    def rates(self) -> dict[str, Rate]:
        pairs = {
            "tasks": (self.tasks_per_second, self.tasks_burst),
            "rooms": (self.rooms_per_second, self.rooms_burst),
            "joins": (self.joins_per_second, self.joins_burst),
            "audio_bytes": (self.audio_bytes_per_second, self.audio_burst_bytes),
        }
        return {kind: Rate(rate, burst) for kind, (rate, burst) in pairs.items() if rate > 0}


class PushSettings(_Strict):
    """Push notifications (webhooks) for A2A clients that ask for them."""

    enabled: bool = True
    allow_private_urls: bool = Field(
        default=False, description="allow webhooks on loopback, private and link-local addresses"
    )
    attempts: int = Field(default=4, ge=1, le=10, description="tries per notification")
    timeout: float = Field(default=10.0, gt=0, le=120)
    encryption_key: str = Field(
        default="", description="Fernet key: webhook credentials encrypted at rest"
    )


def _config_file() -> Path:
    return Path(os.environ.get("PODIUM_CONFIG", "podium.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PODIUM_", env_nested_delimiter="__", extra="forbid"
    )

    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(
        default="", description="absolute URL clients use; empty: http://localhost:{port}"
    )
    data_dir: Path = Path(".podium")
    database_url: str = Field(
        default="",
        description="SQLAlchemy async URL; empty: SQLite in data_dir. postgresql+asyncpg://...",
    )
    max_body_bytes: int = 1_000_000
    rooms: RoomSettings = RoomSettings()
    recordings: RecordingSettings = RecordingSettings()
    remote_agents: RemoteAgentSettings = RemoteAgentSettings()
    voice: VoiceSettings = VoiceSettings()
    webrtc: WebRtcSettings = WebRtcSettings()
    debate: DebateSettings = DebateSettings()
    replicas: ReplicaSettings = ReplicaSettings()
    auth: AuthSettings = AuthSettings()
    limits: LimitSettings = LimitSettings()
    push: PushSettings = PushSettings()
    cors_origins: list[str] = Field(
        default=[], description="web origins allowed to call the API from a browser"
    )
    trust_proxy_headers: bool = Field(
        default=False, description="take X-Forwarded-For/-Proto/-Host from the proxy in front"
    )
    floor: FloorPolicy = FloorPolicy()
    speech: SpeechSettings = SpeechSettings()
    brain: p.BrainSpec = p.BrainSpec()
    moderator: PersonaSettings = PersonaSettings.of(p.MODERATOR)
    debaters: list[PersonaSettings] = [PersonaSettings.of(x) for x in p.DEFAULT_DEBATERS]
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "PODIUM_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "PODIUM_OPENAI_BASE_URL")
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, DeprecatedEnvironment(settings_cls), toml)

    @model_validator(mode="before")
    @classmethod
    def _deprecated_keys(cls, data: Any) -> Any:
        return json_lists(deprecated_flat_keys(data))

    def openai_endpoint(
        self, api_key: str | None, base_url: str | None
    ) -> tuple[str | None, str | None]:
        """A table's OpenAI-compatible key and URL, else ``OPENAI_API_KEY``/``OPENAI_BASE_URL``."""
        return api_key or self.openai_api_key, base_url or self.openai_base_url

    def default_brain(self) -> p.BrainSpec:
        """The brain agents use unless their persona names one: with an OpenAI key or URL in
        the environment, the scripted default becomes that endpoint."""
        if self.brain.kind == "scripted" and (self.openai_api_key or self.openai_base_url):
            key, url = self.openai_endpoint(self.brain.api_key, self.brain.base_url)
            return dataclasses.replace(self.brain, kind="openai", api_key=key, base_url=url)
        return self.brain

    @property
    def base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        loopback = self.host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost")
        return f"http://{'localhost' if loopback else self.host}:{self.port}"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "podium.sqlite3"

    @property
    def database(self) -> str:
        """The database to use: ``database_url``, else SQLite in the data dir."""
        return self.database_url or f"sqlite+aiosqlite:///{self.database_path}"
