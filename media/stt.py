"""Inbound stage 4: utterance audio → text, fed incrementally while the person speaks so the
final result is ready at speech end.

``SpeechToText`` is what rooms use: recognizers that are awaited on the event loop (each
engine decides where its work runs). The offline engine is PocketSphinx (the wheel's en-US
model) in worker processes (:mod:`media.stt_process`); :class:`PocketsphinxSpeechToText` is
what each of those processes runs, blocking."""

from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np

from media.pcm import Pcm


class RecognitionError(Exception):
    """The recognizer could not transcribe an utterance; ``str(error)`` says why."""


class Recognizer(Protocol):
    """One utterance."""

    async def feed(self, pcm: Pcm) -> str:
        """Adds 16 kHz mono audio; returns the partial hypothesis so far."""
        ...

    async def finish(self) -> str: ...


class SpeechToText(Protocol):
    async def recognizer(self) -> Recognizer:
        """A recognizer for one utterance (it may wait while a model loads)."""
        ...

    def warm(self, decoders: int = 2) -> None:
        """Prepares for the first utterances (blocking; called once at start-up)."""
        ...


class Decoding:
    """One utterance on an in-process decoder (blocking calls)."""

    def __init__(self, owner: PocketsphinxSpeechToText) -> None:
        self._owner = owner
        self._decoder = owner.acquire()
        self._decoder.start_utt()
        self._done = False

    def feed(self, pcm: Pcm) -> str:
        if self._done:
            return ""
        self._decoder.process_raw(pcm.astype(np.int16).tobytes(), False, False)
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def finish(self) -> str:
        if self._done:
            return ""
        self._done = True
        try:
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
            return hyp.hypstr if hyp is not None else ""
        finally:
            self._owner.release(self._decoder)


class PocketsphinxSpeechToText:
    """A small pool of in-process decoders (loading the model takes a moment; decoders are
    reused). Blocking, and PocketSphinx holds the GIL while it decodes: worker processes
    run this, not the server's event loop."""

    def __init__(self) -> None:
        self._free: list[object] = []
        self._lock = threading.Lock()

    def acquire(self) -> Any:
        with self._lock:
            if self._free:
                return self._free.pop()
        from pocketsphinx import Decoder

        # No second (flat-lexicon) pass: the utterance's final result is ready 5-20 ms after
        # speech ends instead of 90-210 ms, and on the fixtures it is no less accurate. At
        # most 2000 active HMMs per frame and 2 Gaussians per mixture: 0.09 of real time
        # instead of 0.2 on the fixtures, word error rate 28 % instead of 33 %. (Fewer word
        # exits per frame, maxwpf, lost whole utterances.)
        return Decoder(samprate=16000, loglevel="FATAL", fwdflat=False, maxhmmpf=2000, topn=2)

    def warm(self, decoders: int = 2) -> None:
        """Loads ``decoders`` decoders ahead of the first utterance (blocking)."""
        with self._lock:
            missing = decoders - len(self._free)
        for _ in range(missing):
            self.release(self.acquire())

    def release(self, decoder: object) -> None:
        with self._lock:
            self._free.append(decoder)

    def utterance(self) -> Decoding:
        return Decoding(self)
