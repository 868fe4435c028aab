"""Outbound stage 2: one agent turn's voice — synthesized sentences queued for playback.

The room's clock reads 20 ms at a time; as playback crosses the start of a word, that word's
text is released to ``played()``, so the turn's delivered text is exactly what was heard.
``pause``/``resume`` hold playback in place (a barge-in duck, then a false start), ``fade``
lets the voice trail off under an interrupter, ``flush`` drops everything not yet played.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

import av
import numpy as np

from media.pcm import OUT_FRAME, OUT_RATE, Pcm
from media.tts import Speech


@dataclass
class _Segment:
    pcm: Pcm  # 48 kHz mono
    text: str
    marks: list[tuple[int, int]]  # (sample offset, text end) per word
    cursor: int = 0
    released: int = 0  # chars of text already released


def at_48k(speech: Speech) -> Speech:
    """``speech`` at 48 kHz, band-limited (libswresample; about 1 ms for a 2 s phrase). Done on
    the event loop as a phrase is queued: in the synthesis threads it cost no less and each
    thread's allocator kept megabytes of its buffers."""
    if speech.sample_rate == OUT_RATE or len(speech.pcm) == 0:
        return speech
    frame = av.AudioFrame.from_ndarray(speech.pcm.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = speech.sample_rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=OUT_RATE)
    frames = [*resampler.resample(frame), *resampler.resample(None)]  # None: the tail
    parts = [f.to_ndarray().reshape(-1) for f in frames]
    pcm: Pcm = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    return Speech(pcm, OUT_RATE, speech.words)


class VoiceChannel:
    def __init__(self, speaker: str) -> None:
        self.speaker = speaker
        self._segments: deque[_Segment] = deque()
        self._played: asyncio.Queue[str | None] = asyncio.Queue()
        self._closed = False
        self.paused = False
        self.samples_played = 0
        self._fade_left = 0  # frames left of a trailing fade-out (0: not fading)
        self._fade_total = 0
        self._hold_left = 0  # frames the fade may still wait for another voice to be heard

    def enqueue(self, speech: Speech, text: str) -> None:
        """Queues a phrase (resampled here unless it is at 48 kHz already; see ``at_48k``)."""
        speech = at_48k(speech)
        marks = [(int(w.start * OUT_RATE), w.text_end) for w in speech.words]
        self._segments.append(_Segment(speech.pcm, text, marks))

    def close(self) -> None:
        """No more segments will come; ``played()`` ends after the last one is heard."""
        self._closed = True
        if not self._segments:
            self._played.put_nowait(None)

    @property
    def idle(self) -> bool:
        return not self._segments

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def fade(self, seconds: float, under: float = 0.0) -> None:
        """Trails off over ``seconds`` and then ends; no more words count as heard. With
        ``under``, the voice goes on at its level until another voice is heard
        (``other_heard``), for at most ``under`` seconds, and trails off under it: a cut-in
        overlaps however long the interrupter takes to sound."""
        frames = round(seconds * OUT_RATE / OUT_FRAME)
        if frames <= 0 or self.paused:
            self.flush()
            return
        self._fade_total = self._fade_left = frames
        self._hold_left = round(under * OUT_RATE / OUT_FRAME)
        self._closed = True
        self._played.put_nowait(None)

    @property
    def holding(self) -> bool:
        """Cut, and waiting for another voice before it trails off."""
        return self._fade_total > 0 and self._hold_left > 0

    def other_heard(self) -> None:
        """Another voice is heard: a holding voice trails off from now."""
        self._hold_left = 0

    def read(self) -> Pcm | None:
        """The next 20 ms of this voice, or None when nothing is queued (or paused)."""
        if not self._segments or self.paused:
            return None
        out = np.zeros(OUT_FRAME, np.int16)
        filled = 0
        while filled < OUT_FRAME and self._segments:
            segment = self._segments[0]
            take = min(OUT_FRAME - filled, len(segment.pcm) - segment.cursor)
            out[filled : filled + take] = segment.pcm[segment.cursor : segment.cursor + take]
            segment.cursor += take
            filled += take
            if self._fade_total:
                if segment.cursor >= len(segment.pcm):
                    self._segments.popleft()
                continue
            self._release(segment)
            if segment.cursor >= len(segment.pcm):
                self._release(segment, everything=True)
                self._segments.popleft()
                if not self._segments and self._closed:
                    self._played.put_nowait(None)
        self.samples_played += filled
        if self.holding:  # at its level until another voice is heard
            self._hold_left -= 1
            if not self._segments:
                self._fade_total = self._hold_left = 0
        elif self._fade_total:
            ramp = np.linspace(self._fade_left, self._fade_left - 1, OUT_FRAME, endpoint=False)
            out = (out * (ramp / self._fade_total)).astype(np.int16)
            self._fade_left -= 1
            if self._fade_left <= 0 or not self._segments:
                self._segments.clear()
                self._fade_total = 0
        return out

    def _release(self, segment: _Segment, everything: bool = False) -> None:
        end = segment.released
        if everything:
            end = len(segment.text)
        else:
            for offset, text_end in segment.marks:
                if offset <= segment.cursor:
                    end = max(end, text_end)
        if end > segment.released:
            self._played.put_nowait(segment.text[segment.released : end])
            segment.released = end

    def flush(self) -> None:
        """Drops all unplayed audio (unless it is trailing off); ``played()`` ends."""
        if not self._fade_total:
            self._segments.clear()
        self._closed = True
        self._played.put_nowait(None)

    @property
    def drained(self) -> bool:
        """Closed with nothing left to play (a trailing fade has finished)."""
        return self._closed and not self._segments

    async def played(self) -> str | None:
        """The next heard piece of text, or None at the end of the turn."""
        return await self._played.get()
