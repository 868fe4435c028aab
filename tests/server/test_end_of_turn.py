"""The end of a person's turn adapts: a pause mid-sentence is waited out, a finished
sentence is answered after a short silence. A real room on loopback, a real aiortc speaker,
the real voice detector; the recognizer's words are put on a timeline (the test is about
turn-taking, not recognition)."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from clients.fixtures import labelled_speech, noise
from clients.rtc import EventLog, join
from clients.tracks import ScriptedTrack
from media.end_of_turn import EndOfTurnConfig, silence_needed
from tests.fakes import FakeTextToSpeech, TimedSpeechToText
from tests.serving import serve_podium

PAUSE = 0.4


def _paused_sentence() -> tuple[np.ndarray, float]:
    """A fixture sentence with a 400 ms pause (the recording's own room tone) cut into it
    at a gap between words; returns the audio and the pause's time into the speech."""
    clip = labelled_speech()[0]
    cut = int(2.26 * 16000)  # a gap between two words of this recording
    room = noise("fixture-background", PAUSE)
    return np.concatenate([clip.pcm[:cut], room, clip.pcm[cut:]]), 2.26 - clip.onset


@pytest.mark.parametrize(
    ("before_pause", "one_utterance"),
    [(["i", "think", "that"], True), (["trams", "are", "better"], False)],
    ids=["mid-sentence", "finished"],
)
async def test_a_pause_mid_sentence_is_waited_out_and_a_finished_one_is_answered(
    tmp_path: Path, before_pause: list[str], one_utterance: bool
) -> None:
    audio, pause_at = _paused_sentence()
    words = [(0.3 + i * 0.4, w) for i, w in enumerate(before_pause)]
    words += [(pause_at + PAUSE + 0.3, "we"), (pause_at + PAUSE + 0.6, "should")]
    engines = (TimedSpeechToText(words), FakeTextToSpeech(seconds_per_word=0.05))
    with serve_podium(tmp_path, engines=engines) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
            log = EventLog(http, url, room["id"])
            speaker = await join(http, url, room["id"], "speaker", ScriptedTrack(audio), name="Ann")
            [final] = await log.wait_for("final_transcript", timeout=30)
            await log.wait_for("turn_started", timeout=30)
            stops = log.of("speech_stopped")
            if one_utterance:
                assert len(stops) == 1, "the pause did not end the turn"
                assert final["text"] == "i think that we should"
            else:
                assert final["text"] == "trams are better", "answered in the pause"
            await speaker.close()
            await log.close()


@pytest.mark.parametrize(
    ("partial", "fell", "expected"),
    [
        ("i think that", 0.0, "incomplete"),
        ("we need more buses and", 0.0, "incomplete"),
        ("because the", 0.0, "incomplete"),
        ("um", 0.0, "incomplete"),
        ("we need more buses", 0.0, "complete"),
        ("what do you think", 0.0, "complete"),
        ("yes", 0.0, "unsure"),
        ("yes", 9.0, "complete"),
        ("", 0.0, "unsure"),
        ("it is cheaper to", 9.0, "conflicted"),
    ],
)
def test_the_silence_that_ends_a_turn_follows_what_was_said(
    partial: str, fell: float, expected: str
) -> None:
    config = EndOfTurnConfig()
    assert silence_needed(partial, fell, config) == getattr(config, expected)
    assert config.complete < config.unsure < PAUSE < config.conflicted < config.incomplete
