"""Configuration as it arrives: keys of the last release, and lists given as JSON.

The flat keys of the last release (``max_rooms``, ``vad_hangover``, ``room_lease``, ...) are
still read, from the file and the environment, into the tables that replaced them, each with
one line naming its new key; they go in the next release.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from pydantic_settings import PydanticBaseSettingsSource

log = logging.getLogger("server.settings")

DEPRECATED: dict[str, tuple[str, ...]] = {
    "max_rooms": ("rooms", "max_rooms"),
    "max_participants": ("rooms", "max_speakers"),
    "max_listeners": ("rooms", "max_listeners"),
    "peer_timeout": ("rooms", "peer_timeout"),
    "vad_aggressiveness": ("voice", "aggressiveness"),
    "vad_hangover": ("voice", "end_unfinished"),
    "vad_end_complete": ("voice", "end_complete"),
    "vad_end_unsure": ("voice", "end_unsure"),
    "jitter_packets": ("voice", "jitter_packets"),
    "tts_words_per_minute": ("voice", "words_per_minute"),
    "debate_rounds": ("debate", "rounds"),
    "debate_order": ("debate", "order"),
    "text_debate_wpm": ("debate", "text_wpm"),
    "replica_url": ("replicas", "url"),
    "room_lease": ("replicas", "room_lease", "task_lease"),  # it timed both
}


def _moved(data: Any, old: str, value: Any) -> None:
    """Puts a deprecated flat key's value in its table (a table's own key wins)."""
    table, *keys = DEPRECATED[old]
    section = data.get(table)
    section = dict(section) if isinstance(section, dict) else {}
    for key in keys:
        section.setdefault(key, value)
    data[table] = section
    new = " and ".join(f"{table}.{k}" for k in keys)
    log.warning("setting %s is deprecated and will go in the next release: use %s", old, new)


def deprecated_flat_keys(data: Any) -> Any:
    if isinstance(data, dict):
        for old in DEPRECATED.keys() & data.keys():
            _moved(data, old, data.pop(old))
    return data


def json_lists(data: Any) -> Any:
    """Lists given as JSON in the environment (``PODIUM_FLOOR__HOLLOW='["um"]'``), for the
    tables that are the runtime's own dataclasses (the settings source decodes only models)."""
    if not isinstance(data, dict):
        return data
    for table in ("floor", "brain"):
        section = data.get(table)
        if isinstance(section, dict):
            data[table] = {k: _decoded(v) for k, v in section.items()}
    return data


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value  # the validator says what is wrong with it
    return value


class DeprecatedEnvironment(PydanticBaseSettingsSource):
    """``PODIUM_<FLAT_KEY>`` variables of earlier releases, read into their tables."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for old in DEPRECATED:
            raw = os.environ.get(f"PODIUM_{old.upper()}")
            if raw is not None:
                try:
                    value = json.loads(raw) if raw.lstrip().startswith("[") else raw
                except ValueError:
                    value = raw
                _moved(data, old, value)
        return data
