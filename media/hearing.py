"""Inbound, all stages: a participant's track → what was heard, as typed events.

``hear(track, vad, stt)`` is an async generator: frames are sliced to 16 kHz 20 ms
(``FrameSlicer``), judged by the VAD (``VadSegmenter``) and, while the person speaks, fed to a
recognizer in 100 ms batches (off the event loop). It yields, in order for each utterance,
``VoiceStarted``, ``VoiceContinued`` per frame (with how much of the voice the recognizer has
heard: it may lag), ``WordsRecognized`` as partial words change,
``VoiceStopped`` and then ``UtteranceRecognized`` (or ``RecognitionFailed``). Before an
utterance, ``VoiceSuspected`` (breath or frication) may come, followed by ``VoiceStarted`` or
``VoiceUnconfirmed``. When the track
ends, ``TrackEnded`` comes first; an utterance it cut short is then closed and recognized.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media import turn_model
from media.end_of_turn import Patience
from media.inbound import FrameSlicer
from media.pcm import FRAME_SECONDS, IN_RATE, Pcm
from media.stt import RecognitionError, Recognizer, SpeechToText
from media.turn_model import TurnModel
from media.vad import (
    SpeechStarted,
    SpeechStopped,
    SpeechSuspected,
    SuspicionCleared,
    VadConfig,
    VadEvent,
    VadSegmenter,
)

log = logging.getLogger(__name__)
BATCH_FRAMES = 5  # 100 ms of audio per recognizer call
FLUSH = np.zeros(0, np.int16)  # to an utterance's recognizer task: a pause began
# To an utterance's recognizer: audio, and the voiced seconds heard once it is recognized;
# None ends the utterance.
Feed = asyncio.Queue[tuple[Pcm, float] | None]


@dataclass(frozen=True)
class VoiceStarted:
    onset: float  # stream seconds at which speech began
    detected: float = 0.0  # stream seconds at which the detector confirmed it


@dataclass(frozen=True)
class VoiceSuspected:
    """Breath or frication that may be a voice starting ("h", "s", "sh", "f")."""

    onset: float  # stream seconds at which the sound began
    detected: float


@dataclass(frozen=True)
class VoiceUnconfirmed:
    """No voice came of the suspected one."""


@dataclass(frozen=True)
class VoiceContinued:
    voiced: float  # seconds of speech so far in this utterance
    # of those, the seconds the recognizer has heard (its words so far are about them): a
    # recognizer behind the voice has not yet found no words in what it has not heard
    listened: float


@dataclass(frozen=True)
class VoiceStopped:
    duration: float  # seconds of audio in the utterance (pre-roll and trailing silence included)
    silence: float = 0.0  # seconds of trailing silence that ended it


@dataclass(frozen=True)
class WordsRecognized:
    text: str  # the partial hypothesis so far


@dataclass(frozen=True)
class UtteranceRecognized:
    text: str  # the final transcript ("" when no words were recognized)


@dataclass(frozen=True)
class RecognitionFailed:
    reason: str


@dataclass(frozen=True)
class TrackEnded:
    """The track ended (the person left); a running utterance is closed after this."""


Heard = (
    VoiceSuspected
    | VoiceUnconfirmed
    | VoiceStarted
    | VoiceContinued
    | VoiceStopped
    | WordsRecognized
    | UtteranceRecognized
    | RecognitionFailed
    | TrackEnded
)


Tap = Callable[[av.AudioFrame], None]


async def hear(
    track: MediaStreamTrack,
    vad: VadConfig,
    stt: SpeechToText,
    tap: Tap | None = None,
    patience: Patience | None = None,
) -> AsyncGenerator[Heard, None]:
    """What ``track`` says, until it ends. Close it (``contextlib.aclosing``) to stop early.
    ``tap`` gets every decoded frame as it arrives (the room mixes the voice with it);
    ``patience``: what this person's pauses have taught (the caller may change it)."""
    heard: asyncio.Queue[Heard | None] = asyncio.Queue()
    reader = asyncio.create_task(_read(track, vad, stt, heard, tap, patience or Patience()))
    try:
        while (event := await heard.get()) is not None:
            yield event
    finally:
        reader.cancel()
        await asyncio.wait({reader})  # (a cancel of the caller still propagates)


async def _read(
    track: MediaStreamTrack,
    vad: VadConfig,
    stt: SpeechToText,
    heard: asyncio.Queue[Heard | None],
    tap: Tap | None,
    patience: Patience,
) -> None:
    slicer = FrameSlicer()
    stream_time = 0.0
    feed: Feed | None = None
    batch: list[Pcm] = []  # the running utterance's frames not yet sent to its recognizer
    listened = 0.0  # the running utterance's voiced seconds its recognizer has heard

    def words_of(utterance: Feed) -> Callable[[str], None]:
        def words(partial: str) -> None:  # the end of turn weighs what was said so far
            if feed is utterance:
                segmenter.hear(partial)

        return words

    def listened_of(utterance: Feed) -> Callable[[float], None]:
        def heard_through(voiced: float) -> None:
            nonlocal listened
            if feed is utterance:
                listened = voiced

        return heard_through

    def send_batch() -> None:
        """The running utterance's frames so far to its recognizer."""
        if feed is not None and batch:
            feed.put_nowait((np.concatenate(batch), segmenter.voiced))
            batch.clear()

    def mark(then: Pcm | None) -> None:
        """The batch so far, then FLUSH (a pause began) or None (the utterance ended)."""
        send_batch()
        if feed is not None:
            feed.put_nowait(None if then is None else (then, segmenter.voiced))

    def on_vad(events: list[VadEvent]) -> None:
        nonlocal feed, listened
        for event in events:
            match event:
                case SpeechSuspected(onset=onset, at=at):
                    heard.put_nowait(VoiceSuspected(onset, at))
                case SuspicionCleared():
                    heard.put_nowait(VoiceUnconfirmed())
                case SpeechStarted(onset=onset, at=at):
                    heard.put_nowait(VoiceStarted(onset, at))
                    feed, listened = asyncio.Queue(), 0.0
                    recognizers.create_task(
                        _recognize(stt, feed, heard, words_of(feed), listened_of(feed))
                    )
                case SpeechStopped(audio=audio, silence=silence):
                    heard.put_nowait(VoiceStopped(round(len(audio) / IN_RATE, 2), silence))
                    mark(None)
                    feed = None

    async def judge(model: TurnModel, pause: int, views: list[Pcm]) -> None:
        """The end-of-turn model's judgments of views of the running pause."""
        try:  # at once, one judging thread each: the answers in one judgment's time
            for finished in await asyncio.gather(*(turn_model.judge(model, v) for v in views)):
                segmenter.judged(pause, finished)
        except Exception as error:  # onnxruntime failed: words and silence judge from now on
            log.warning("the end-of-turn model failed (%s); judging by words alone", error)
            segmenter.judging = False

    try:
        segmenter = await asyncio.to_thread(VadSegmenter, vad)  # loads the speech model
        model = (
            await asyncio.to_thread(turn_model.load, vad.turn_weights) if vad.turn_model else None
        )
        segmenter.judging = model is not None
        segmenter.patience = patience
        async with asyncio.TaskGroup() as recognizers:
            try:
                while True:
                    try:
                        frame = await track.recv()
                    except MediaStreamError:
                        heard.put_nowait(TrackEnded())
                        break
                    if not isinstance(frame, av.AudioFrame):
                        continue
                    if tap is not None:
                        tap(frame)
                    for pcm in slicer.push(frame):
                        stream_time += FRAME_SECONDS
                        on_vad(segmenter.push(pcm, stream_time))
                        if feed is None:
                            continue
                        batch.append(pcm)
                        heard.put_nowait(VoiceContinued(segmenter.voiced, listened))
                        if segmenter.pause_began():  # the words so far, now, for the end
                            mark(FLUSH)  # of turn
                        if model is not None and (due := segmenter.views_due()) is not None:
                            recognizers.create_task(judge(model, *due))
                        elif len(batch) >= BATCH_FRAMES:
                            send_batch()
                on_vad(segmenter.flush(stream_time))  # the track ended mid-utterance
            finally:
                mark(None)
    finally:
        heard.put_nowait(None)


async def _recognize(
    stt: SpeechToText,
    feed: Feed,
    heard: asyncio.Queue[Heard | None],
    words: Callable[[str], None],
    listened: Callable[[float], None],
) -> None:
    """One utterance: 100 ms batches in, partial words out, then the final transcript; after
    each batch, how much of the voice was heard (``listened``). A failing engine becomes
    ``RecognitionFailed``, never a dead hearing."""
    try:
        recognizer: Recognizer = await stt.recognizer()  # may wait for a model to load
        last = ""
        while (item := await feed.get()) is not None:
            audio, voiced = item
            if audio is FLUSH:  # a pause began: the words so far (every batch before it was
                words(last)  # fed), changed or not, for the end of turn
                continue
            partial = await recognizer.feed(audio)
            listened(voiced)  # (before the words, which are about that much)
            if partial and partial != last:
                last = partial
                words(partial)
                heard.put_nowait(WordsRecognized(partial))
        text = await recognizer.finish()
        heard.put_nowait(UtteranceRecognized(text.strip()))
    except RecognitionError as error:
        log.warning("speech recognition failed: %s", error)
        heard.put_nowait(RecognitionFailed(str(error) or type(error).__name__))
