"""Recognizer worker processes: real PocketSphinx, and a dead worker replaced, not fatal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.fixtures import labelled_speech
from media.stt_process import ProcessSpeechToText


@pytest.fixture(scope="module")
def stt() -> Iterator[ProcessSpeechToText]:
    engine = ProcessSpeechToText(workers=1)
    yield engine
    engine.close()


def recognize(stt: ProcessSpeechToText) -> str:
    clip = labelled_speech()[1]
    recognizer = stt.recognizer()
    for start in range(0, len(clip.pcm), 1600):
        recognizer.feed(clip.pcm[start : start + 1600])
    return recognizer.finish()


def test_a_worker_recognizes_an_utterance(stt: ProcessSpeechToText) -> None:
    clip = labelled_speech()[1]
    assert set(recognize(stt).split()) & set(clip.words.split())


def test_a_worker_that_dies_is_replaced_for_the_next_utterance(
    stt: ProcessSpeechToText,
) -> None:
    [worker] = stt._pool()
    worker._process.kill()
    worker._process.join(5)
    clip = labelled_speech()[1]
    assert set(recognize(stt).split()) & set(clip.words.split())
    assert stt._pool()[0] is not worker
