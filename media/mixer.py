"""Outbound stage 3: the room's 20 ms clock mixes every voice into one frame.

``Mixer.tick`` is pure (voices in, one 48 kHz frame out, plus the overlap that just ended);
``frame_clock`` paces it on the event loop: one tick per 20 ms, resynchronized after a stall
instead of bursting to catch up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from media.pcm import FRAME_SECONDS, OUT_FRAME, Pcm
from media.voice import VoiceChannel

AUDIBLE = 300  # peak sample level above which a voice counts as audible (for overlap figures)
STALL = 0.2  # seconds behind after which the clock resynchronizes


class Mixer:
    def __init__(self) -> None:
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

    def tick(self) -> tuple[Pcm, float | None]:
        """The next 20 ms of the mix, and the seconds of an overlap that just ended."""
        mix = np.zeros(OUT_FRAME, np.int32)
        audible = 0
        for key, channel in list(self._voices.items()):
            pcm = channel.read()
            if pcm is not None:
                mix += pcm
                audible += int(np.abs(pcm).max()) > AUDIBLE
            if key in self._retiring and channel.drained:
                self.remove(key)
        ended = None
        if audible > 1:
            self._overlap += 1
        elif self._overlap:
            ended, self._overlap = self._overlap * FRAME_SECONDS, 0
        return mix.clip(-32768, 32767).astype(np.int16), ended


async def frame_clock() -> AsyncIterator[int]:
    """Yields 0, 1, 2, ... every 20 ms of loop time."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tick = 0
    while True:
        yield tick
        tick += 1
        delay = start + tick * FRAME_SECONDS - loop.time()
        if delay < -STALL:
            start, tick, delay = loop.time(), 0, 0.0
        await asyncio.sleep(max(0.0, delay))
