"""Client tracks: play a 16 kHz clip into a peer connection in real time, 20 ms at a time."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

RATE = 48000
SAMPLES = 960


def upsample_16k(pcm: np.ndarray) -> np.ndarray:
    positions = np.arange(len(pcm) * 3) / 3
    out: np.ndarray = np.interp(positions, np.arange(len(pcm)), pcm).astype(np.int16)
    return out


def audio_frame(chunk: np.ndarray, pts: int) -> av.AudioFrame:
    """One 20 ms 48 kHz mono frame (``chunk`` padded with silence) at ``pts``."""
    if len(chunk) < SAMPLES:
        chunk = np.concatenate([chunk, np.zeros(SAMPLES - len(chunk), np.int16)])
    frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = RATE
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, RATE)
    return frame


class ScriptedTrack(MediaStreamTrack):
    """Plays ``pcm`` (16 kHz mono) after ``lead`` seconds of silence, paced at real time."""

    kind = "audio"

    def __init__(self, pcm: np.ndarray, lead: float = 0.5) -> None:
        super().__init__()
        self._audio = np.concatenate([np.zeros(int(RATE * lead), np.int16), upsample_16k(pcm)])
        self._pts = 0
        self._start: float | None = None
        self.speech_started_at: float | None = None  # wall clock when the clip's audio began
        self._lead = lead

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
            self.speech_started_at = self._start + self._lead
        wait = self._start + self._pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = audio_frame(self._audio[self._pts : self._pts + SAMPLES], self._pts)
        self._pts += SAMPLES
        return frame


class StalledTrack(ConnectionError):
    """A track's sender stopped taking frames before its clip's end."""


class CueTrack(MediaStreamTrack):
    """Silent until ``play`` is called; then plays a 16 kHz clip in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        self._start: float | None = None
        self._clip = np.zeros(0, np.int16)
        self._clip_pts = 0
        self.onset_at: float | None = None  # monotonic time the clip's labelled onset was sent
        self.played = asyncio.Event()  # the clip has been sent to its end
        self.played.set()
        self._pulled = asyncio.Event()  # the sender took a frame

    def play(self, pcm: np.ndarray, onset: float = 0.0) -> None:
        """Starts ``pcm`` at the next frame; ``onset``: seconds into the clip speech begins."""
        self._clip = upsample_16k(pcm)
        self._clip_pts = self._pts
        self.played.clear()
        self.onset_at = time.monotonic() + 0.02 + onset

    async def finished(self, stall: float = 3.0) -> None:
        """Waits until the clip has been sent to its end; raises ``StalledTrack`` if the
        peer's sender takes no frame for ``stall`` seconds (its connection went away)."""
        await self._until(lambda: self.played.is_set(), stall)

    async def sent(self, seconds: float, stall: float = 3.0) -> None:
        """Waits until the clip has been sent ``seconds`` into it (the sender's clock, not
        the wall's: a busy loop sends late); raises ``StalledTrack`` as ``finished`` does."""
        samples = round(seconds * RATE)
        await self._until(lambda: self._pts - self._clip_pts >= samples, stall)

    async def _until(self, done: Callable[[], bool], stall: float) -> None:
        while not done():
            self._pulled.clear()
            try:
                await asyncio.wait_for(self._pulled.wait(), stall)
            except TimeoutError:
                raise StalledTrack(f"no frame was taken for {stall:.0f} s mid-clip") from None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._pulled.set()
        offset = self._pts - self._clip_pts
        chunk = self._clip[offset : offset + SAMPLES] if offset >= 0 else self._clip[:0]
        if offset >= len(self._clip):
            self.played.set()
        frame = audio_frame(chunk, self._pts)
        self._pts += SAMPLES
        return frame
