"""The end of a person's turn adapts: a pause mid-sentence is waited out, a finished
sentence is answered after a short silence. A real room on loopback, a real aiortc speaker,
the real voice detector, with the end-of-turn model judging the voice (or, without it, the
words alone); the recognizer's words are put on a timeline (the test is about turn-taking,
not recognition)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from clients.fixtures import labelled_speech, noise
from clients.rtc import EventLog, join
from clients.tracks import ScriptedTrack
from media import sentence_end
from media.end_of_turn import (
    CONTINUATIONS,
    EndOfTurnConfig,
    Patience,
    silence_judged,
    silence_needed,
)
from media.turn_model import installed_weights
from media.vad import VadConfig
from server.settings import VoiceSettings
from tests.fakes import FakeTextToSpeech, TimedSpeechToText
from tests.serving import serve_podium

PAUSE = 0.4
WORDS_ALONE = VoiceSettings(turn_model=False)
needs_model = pytest.mark.skipif(
    installed_weights() is None,
    reason="the end-of-turn model is not installed (make setup runs tools/install_turn_weights.py)",
)


def _paused_sentence(pause: float = PAUSE) -> tuple[np.ndarray, float]:
    """A fixture sentence with a pause (the recording's own room tone) cut into it at a gap
    between words ("and mister john dashwood had then | leisure to consider ..."); returns
    the audio and the pause's time into the speech."""
    clip = labelled_speech()[0]
    cut = int(2.26 * 16000)  # a gap between two words of this recording
    room = noise("fixture-background", pause)
    return np.concatenate([clip.pcm[:cut], room, clip.pcm[cut:]]), 2.26 - clip.onset


@pytest.mark.parametrize(
    ("before_pause", "one_utterance"),
    [(["i", "think", "that"], True), (["trams", "are", "better"], False)],
    ids=["mid-sentence", "finished"],
)
async def test_without_the_model_words_say_whether_a_pause_ends_the_turn(
    tmp_path: Path, before_pause: list[str], one_utterance: bool
) -> None:
    audio, pause_at = _paused_sentence()
    words = [(0.3 + i * 0.4, w) for i, w in enumerate(before_pause)]
    words += [(pause_at + PAUSE + 0.3, "we"), (pause_at + PAUSE + 0.6, "should")]
    engines = (TimedSpeechToText(words), FakeTextToSpeech(seconds_per_word=0.05))
    with serve_podium(tmp_path, engines=engines, voice=WORDS_ALONE) as url:
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


async def test_a_person_answered_inside_a_pause_who_goes_on_is_answered_for_all_of_it(
    tmp_path: Path,
) -> None:
    """Words that sound finished before a pause end the turn there (the word policy alone);
    the person goes on, cutting the answer short: the next answer is to the whole sentence.
    Said again later with the same pause, the sentence is one utterance: the room learnt."""
    audio, pause_at = _paused_sentence()
    silence = noise("fixture-background", 2.0)
    words = [(0.3 + i * 0.4, w) for i, w in enumerate(["trams", "are", "better"])]
    after = [(0.3, "we"), (0.6, "should")]  # the second utterance's own timeline
    again = [*words, *((pause_at + PAUSE + t, w) for t, w in after)]
    # a slow voice: the answer started in the pause is still being voiced when she goes on
    stt = TimedSpeechToText(words, after, again)
    engines = (stt, FakeTextToSpeech(seconds_per_word=0.5))
    with serve_podium(tmp_path, engines=engines, voice=WORDS_ALONE) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
            log = EventLog(http, url, room["id"])
            track = ScriptedTrack(np.concatenate([audio, silence, audio]))
            speaker = await join(http, url, room["id"], "speaker", track, name="Ann")
            [resumed] = await log.wait_for("sentence_resumed", timeout=30)
            assert resumed["who"] == "Ann"
            assert resumed["text"] == "trams are better we should"
            first, _ = await log.wait_for("turn_started", count=2, timeout=30)
            [cut] = await log.wait_for("turn_ended", timeout=30, task_id=first["task_id"])
            assert cut["state"] != "completed", "the answer to half the sentence was cut"
            await log.wait_for("final_transcript", count=3, timeout=30)
            finals = [(e["text"], e["ignored"]) for e in log.of("final_transcript")]
            assert finals == [
                ("trams are better", None),
                ("we should", None),
                ("trams are better we should", None),  # the same pause: no end this time
            ]
            assert len(log.of("sentence_resumed")) == 1
            await speaker.close()
            await log.close()


async def test_in_a_debate_a_person_answered_inside_a_pause_who_goes_on_is_answered_for_all_of_it(
    tmp_path: Path,
) -> None:
    """The same in a debate: the half sentence is an interjection whose answer starts in the
    pause; the person goes on and cuts it; the moderator is handed the whole sentence."""
    audio, _ = _paused_sentence()
    words = [(0.3 + i * 0.4, w) for i, w in enumerate(["trams", "are", "better"])]
    after = [(0.3, "we"), (0.6, "should")]
    engines = (TimedSpeechToText(words, after), FakeTextToSpeech(seconds_per_word=0.5))
    with serve_podium(tmp_path, engines=engines, voice=WORDS_ALONE) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            body = {"topic": "Trams", "debate": True, "rounds": 3, "interruptions": 0}
            room = (await http.post(f"{url}/rooms", json=body)).json()
            log = EventLog(http, url, room["id"])
            await log.wait_for("turn_started", timeout=30)  # she speaks into a running debate
            speaker = await join(http, url, room["id"], "speaker", ScriptedTrack(audio), name="Ann")
            [resumed] = await log.wait_for("sentence_resumed", timeout=40)
            assert resumed == resumed | {"who": "Ann", "text": "trams are better we should"}
            finals = [e["text"] for e in log.of("final_transcript") if not e.get("typed")]
            assert finals == ["trams are better", "we should"]
            cut = [e for e in log.of("interrupted") if e.get("by") == "Ann"]
            assert len(cut) >= 2, "her voice cut the debater, then the turn in her pause"
            at = log.events.index(resumed)

            def answered(events: list[dict[str, Any]]) -> bool:
                return any(e["type"] == "turn_started" for e in events[at:])

            await log.wait_until(answered, timeout=30)
            [answer, *_] = [e for e in log.events[at:] if e["type"] == "turn_started"]
            await speaker.close()
            await log.close()
            await http.delete(f"{url}/rooms/{room['id']}")  # its turns end, and are stored
            task = await http.get(
                f"{url}/agents/{answer['agent']}/tasks/{answer['task_id']}",
                params={"historyLength": 5},
                headers={"A2A-Version": "1.0"},
            )
            stored = task.json()
            assert "history" in stored, f"{answer}: {task.status_code} {task.text[:600]}"
            asked = [
                part.get("text")
                for message in stored["history"]
                if message["role"] == "ROLE_USER"
                for part in message["parts"]
            ]
            assert asked == ["trams are better we should"], "the whole sentence, asked once"


@pytest.mark.parametrize(
    "partial", ["he might even have been", "unless to be", "to be rather", "i think"]
)
def test_words_that_stop_where_sentences_hardly_end_need_more(partial: str) -> None:
    """Words no list of function words knows: the recognizer's language model says a
    sentence seldom ends there, with or without the end-of-turn model."""
    config = EndOfTurnConfig()
    ending = sentence_end.load().probability(partial)
    assert ending < config.unlikely_end or partial.split()[-1] in CONTINUATIONS
    assert silence_needed(partial, 0.0, config, ending) == config.incomplete
    assert silence_judged(0.95, partial, 0.0, config, ending) == config.incomplete
    assert silence_judged(0.6, partial, 0.0, config, ending) == config.fallback


@pytest.mark.parametrize("partial", ["we need more buses", "he did it for them", "young man"])
def test_words_that_end_sentences_still_end_turns_soon(partial: str) -> None:
    config = EndOfTurnConfig()
    ending = sentence_end.load().probability(partial)
    assert silence_needed(partial, 0.0, config, ending) == config.complete


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


@needs_model
@pytest.mark.parametrize("words_sound_finished", [True, False], ids=["words-finished", "no-words"])
async def test_a_voice_that_pauses_mid_sentence_is_one_utterance_answered_once_after_its_end(
    tmp_path: Path, words_sound_finished: bool
) -> None:
    """Half a second of silence after "had then", which the word policy alone takes as an end
    when the recognizer's words sound finished: the model hears an unfinished voice."""
    audio, pause_at = _paused_sentence(0.5)
    first = ["dashwood", "had", "then"] if words_sound_finished else []
    words = [(0.3 + i * 0.4, w) for i, w in enumerate(first)]
    words += [(pause_at + 0.5 + 0.3, "leisure"), (pause_at + 0.5 + 0.6, "to")]
    engines = (TimedSpeechToText(words), FakeTextToSpeech(seconds_per_word=0.05))
    with serve_podium(tmp_path, engines=engines) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
            log = EventLog(http, url, room["id"])
            speaker = await join(http, url, room["id"], "speaker", ScriptedTrack(audio), name="Ann")
            [final] = await log.wait_for("final_transcript", timeout=40)
            await log.wait_for("turn_ended", timeout=40)
            assert len(log.of("speech_stopped")) == 1, "the pause did not end the turn"
            assert final["text"].endswith("leisure to"), "one utterance, pause and all"
            assert len(log.of("turn_started")) == 1, "answered once"
            await speaker.close()
            await log.close()


@needs_model
async def test_a_finished_sentence_is_answered_after_a_short_silence(tmp_path: Path) -> None:
    """The whole sentence, which the model hears as finished and whose last word ("them")
    ends it: the turn ends well before the fallback silence (measured on the stream's own
    clock: the utterance's length). Before, the test gave the recognizer only the first 14
    of the 21 words, ending "might be", and the words' veto held the end 0.8 s."""
    clip = labelled_speech()[0]
    said = clip.words.split()  # the recording's own words, spread over its speech
    span = clip.offset - clip.onset
    words = [(clip.onset + span * (i + 0.5) / len(said), w) for i, w in enumerate(said)]
    engines = (TimedSpeechToText(words), FakeTextToSpeech(seconds_per_word=0.05))
    with serve_podium(tmp_path, engines=engines) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
            log = EventLog(http, url, room["id"])
            speaker = await join(
                http, url, room["id"], "speaker", ScriptedTrack(clip.pcm), name="Ann"
            )
            [stopped] = await log.wait_for("speech_stopped", timeout=40)
            await log.wait_for("turn_started", timeout=40)
            spoken = clip.offset - clip.onset + VadConfig().preroll
            waited = stopped["duration"] - spoken
            assert waited < EndOfTurnConfig().fallback - 0.3, f"waited {waited:.2f} s of silence"
            await speaker.close()
            await log.close()


@pytest.mark.parametrize(
    ("finished", "partial", "expected"),
    [
        (None, "we need more buses", "fallback"),  # not judged yet
        (0.2, "we need more buses", "fallback"),  # the voice sounds unfinished
        (0.95, "we need more buses", "complete"),
        (0.95, "we need more because the", "incomplete"),  # the words disagree: longer
        # nothing but words that need more: the voice cannot overrule them
        (0.97, "he", "fallback"),
        (0.96, "unless to", "fallback"),
        (0.95, "go", "unsure"),  # one word that sounds done: too little to believe it
        (0.95, "yes", "unsure"),
        (0.6, "yes", "unsure"),
        (0.6, "we need more buses", "unsure"),
        (0.6, "it is cheaper to", "fallback"),
        (0.6, "", "incomplete"),  # a maybe, and no words to second it
        (0.95, "", "complete"),
    ],
)
def test_the_model_decides_and_the_words_second_it(
    finished: float | None, partial: str, expected: str
) -> None:
    config = EndOfTurnConfig()
    assert silence_judged(finished, partial, 0.0, config) == getattr(config, expected)


def test_a_pause_taken_for_an_end_teaches_patience_that_eases_turn_by_turn() -> None:
    config = EndOfTurnConfig()
    patience = Patience()
    patience.went_on(0.5, config)
    assert patience.least == pytest.approx(0.5 + patience.margin)
    patience.went_on(0.3, config)  # a shorter pause later teaches nothing new
    assert patience.least == pytest.approx(0.5 + patience.margin)
    patience.went_on(5.0, config)  # never longer than the fallback
    assert patience.least == config.fallback
    turns = 0
    while patience.least > 0:
        patience.eased()
        turns += 1
    assert turns == round(config.fallback / patience.ease)
    patience.eased()
    assert patience.least == 0.0
