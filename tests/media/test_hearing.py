"""Hearing a track: a track in, typed events out, in order, through the real VAD."""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np

from clients.fixtures import labelled_speech, noise
from media.hearing import (
    Heard,
    RecognitionFailed,
    TrackEnded,
    UtteranceRecognized,
    VoiceContinued,
    VoiceStarted,
    VoiceStopped,
    WordsRecognized,
    hear,
)
from media.vad import VadConfig
from tests.fakes import ClipTrack, FakeSpeechToText, GatedSpeechToText


async def heard(track: ClipTrack, stt: FakeSpeechToText) -> list[Heard]:
    async with contextlib.aclosing(hear(track, VadConfig(), stt)) as events:
        return [event async for event in events]


def kinds(events: list[Heard]) -> list[type]:
    skipped = VoiceContinued | WordsRecognized | TrackEnded
    return [type(e) for e in events if not isinstance(e, skipped)]


async def test_an_utterance_yields_its_events_in_order() -> None:
    clip = labelled_speech()[1]
    room = noise("fixture-background", 1.0)  # the recording's own background, not digital zero
    stt = FakeSpeechToText(["he", "was", "not"], seconds_per_word=0.3)
    events = await heard(ClipTrack(np.concatenate([room, clip.pcm, room])), stt)
    assert kinds(events) == [VoiceStarted, VoiceStopped, UtteranceRecognized]
    started = next(e for e in events if isinstance(e, VoiceStarted))
    assert abs(started.onset - (1.0 + clip.onset)) < 0.1
    partials = [e.text for e in events if isinstance(e, WordsRecognized)]
    assert partials[:2] == ["he", "he was"], "partial words grow while the person speaks"
    voiced = [e.voiced for e in events if isinstance(e, VoiceContinued)]
    assert voiced == sorted(voiced) and voiced[-1] > 0.5
    finals = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert finals == [UtteranceRecognized("he was not")]


async def test_the_voice_heard_so_far_says_how_much_of_it_the_recognizer_has_heard() -> None:
    """A recognizer that keeps up has heard nearly all the voice so far; one that lags (here:
    hears nothing until the person stops) has heard none of it, however long the voice."""
    clip = labelled_speech()[1]
    room = noise("fixture-background", 1.0)
    pcm = np.concatenate([room, clip.pcm, room])
    stt = GatedSpeechToText(["he", "was", "not"])
    lagging: list[Heard] = []
    async with contextlib.aclosing(hear(ClipTrack(pcm), VadConfig(), stt)) as events:
        async for event in events:
            lagging.append(event)
            if isinstance(event, VoiceStopped):
                stt.gate.set()  # the recognizer catches up once the person has stopped
    progress = [e for e in lagging if isinstance(e, VoiceContinued)]
    assert progress[-1].voiced > 1.5, "long enough to be called wordless if it were heard"
    assert {e.listened for e in progress} == {0.0}
    assert lagging[-1] == UtteranceRecognized("he was not"), "the words came, late"

    prompt = await heard(ClipTrack(pcm), FakeSpeechToText(["he", "was", "not"]))
    progress = [e for e in prompt if isinstance(e, VoiceContinued)]
    assert all(e.listened <= e.voiced for e in progress)
    assert max(e.listened for e in progress) > 1.5, "a recognizer that keeps up heard it"


async def test_a_track_that_ends_mid_utterance_still_closes_and_recognizes_it() -> None:
    clip = labelled_speech()[1]
    cut = clip.pcm[: int(16000 * (clip.onset + 0.8))]
    events = await heard(ClipTrack(cut), FakeSpeechToText(["he", "was"]))
    assert kinds(events) == [VoiceStarted, VoiceStopped, UtteranceRecognized]
    ended = events.index(TrackEnded())
    assert isinstance(events[ended + 1], VoiceStopped), "the end is known before the close"
    assert events[-1] == UtteranceRecognized("he was")


async def test_noise_yields_nothing_and_a_broken_recognizer_is_an_event() -> None:
    assert await heard(ClipTrack(noise("loud-white", 2.0)), FakeSpeechToText(["x"])) == [
        TrackEnded()
    ]
    clip = labelled_speech()[0]
    events = await heard(ClipTrack(clip.pcm), FakeSpeechToText(["x"], fail=True))
    assert kinds(events) == [VoiceStarted, VoiceStopped, RecognitionFailed]


async def test_closing_the_hearing_stops_reading_the_track() -> None:
    clip = labelled_speech()[0]
    hold = asyncio.Event()
    track = ClipTrack(clip.pcm, hold=hold)
    events = hear(track, VadConfig(), FakeSpeechToText(["a"]))
    first = await anext(events)
    assert isinstance(first, VoiceStarted)
    await events.aclose()  # the reader is canceled while it waits on the track
    assert track.readyState == "live"
