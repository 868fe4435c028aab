"""Outbound stage 3: the room's 20 ms clock mixes every voice into one frame.

``Mixer.tick`` is pure (voices in, one 48 kHz ``MixFrame`` out, plus the overlap that just
ended). It mixes the agents' voices (``VoiceChannel``) and the people's (``LiveVoice``); the
frame keeps each person's own contribution so that person can be sent the mix without it.
The room calls it once per beat of the process's ``Metronome``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from media.live import LiveVoice
from media.pcm import FRAME_SECONDS, OUT_FRAME, Pcm
from media.voice import VoiceChannel

AUDIBLE = 300  # peak sample level above which a voice counts as audible (for overlap figures)


@dataclass(frozen=True)
class MixFrame:
    """One 20 ms frame of the room: everything, and each person's part in it."""

    total: npt.NDArray[np.int32]  # every voice, summed (not yet clipped)
    people: dict[str, Pcm] = field(default_factory=dict)  # person key → their frame

    def everyone(self) -> Pcm:
        return _clip(self.total)

    def without(self, person: str) -> Pcm:
        """The mix minus one person's own voice (all of it when they made no sound)."""
        own = self.people.get(person)
        return _clip(self.total if own is None else self.total - own)


def _clip(total: npt.NDArray[np.int32]) -> Pcm:
    return total.clip(-32768, 32767).astype(np.int16)


class Mixer:
    def __init__(self) -> None:
        self._people: dict[str, LiveVoice] = {}
        self._voices: dict[str, VoiceChannel] = {}
        self._retiring: set[str] = set()
        self._overlap = 0  # consecutive frames with two voices audible

    def add(self, key: str, channel: VoiceChannel) -> None:
        self._voices[key] = channel
        self._retiring.discard(key)

    def get(self, key: str) -> VoiceChannel | None:
        return self._voices.get(key)

    def remove(self, key: str) -> None:
        self._voices.pop(key, None)
        self._retiring.discard(key)

    def retire(self, key: str) -> None:
        """Removes the voice once it has nothing left to play (a trailing fade ends)."""
        channel = self._voices.get(key)
        if channel is None or channel.drained:
            self.remove(key)
        else:
            self._retiring.add(key)

    def keys(self) -> list[str]:
        return list(self._voices)

    def add_person(self, key: str, voice: LiveVoice) -> None:
        self._people[key] = voice

    def remove_person(self, key: str) -> None:
        self._people.pop(key, None)

    def tick(self) -> tuple[MixFrame, float | None]:
        """The next 20 ms of the mix, and the seconds of an overlap (of two or more agents'
        voices) that just ended."""
        mix = np.zeros(OUT_FRAME, np.int32)
        heard: list[VoiceChannel] = []
        for key, channel in list(self._voices.items()):
            pcm = channel.read()
            if pcm is not None:
                mix += pcm
                if int(np.abs(pcm).max()) > AUDIBLE:
                    heard.append(channel)
            if key in self._retiring and channel.drained:
                self.remove(key)
        for channel in self._voices.values():  # a cut voice trails off under its interrupter
            if channel.holding and any(other is not channel for other in heard):
                channel.other_heard()
        audible = len(heard)
        ended = None
        if audible > 1:
            self._overlap += 1
        elif self._overlap:
            ended, self._overlap = self._overlap * FRAME_SECONDS, 0
        people = {}
        for key, voice in self._people.items():
            if (pcm := voice.read()) is not None:
                mix += pcm
                people[key] = pcm
        return MixFrame(mix, people), ended
