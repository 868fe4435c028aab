"""Recognizer worker processes: real PocketSphinx, and a dead worker replaced, not fatal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from clients.fixtures import labelled_speech
from media.stt import RecognitionError
from media.stt_process import ProcessSpeechToText


@pytest.fixture(scope="module")
def stt() -> Iterator[ProcessSpeechToText]:
    engine = ProcessSpeechToText(workers=1)
    yield engine
    engine.close()


async def recognize(stt: ProcessSpeechToText, clip_index: int = 1) -> str:
    clip = labelled_speech()[clip_index]
    recognizer = await stt.recognizer()
    for start in range(0, len(clip.pcm), 1600):
        await recognizer.feed(clip.pcm[start : start + 1600])
    return await recognizer.finish()


def words_of(clip_index: int) -> set[str]:
    return set(labelled_speech()[clip_index].words.split())


async def test_a_worker_recognizes_an_utterance(stt: ProcessSpeechToText) -> None:
    assert set((await recognize(stt)).split()) & words_of(1)


async def test_utterances_at_once_on_one_worker_each_get_their_own_words(
    stt: ProcessSpeechToText,
) -> None:
    first, second = await asyncio.gather(recognize(stt, 0), recognize(stt, 2))
    assert set(first.split()) & words_of(0) and set(second.split()) & words_of(2)
    assert first != second


async def test_a_worker_that_dies_midway_fails_its_utterance_and_is_replaced(
    stt: ProcessSpeechToText,
) -> None:
    recognizer = await stt.recognizer()
    [worker] = stt._pool()
    worker._process.kill()
    worker._process.join(5)
    with pytest.raises(RecognitionError, match="worker died"):
        await recognizer.feed(labelled_speech()[1].pcm[:1600])
    assert set((await recognize(stt)).split()) & words_of(1)
    assert stt._pool()[0] is not worker
