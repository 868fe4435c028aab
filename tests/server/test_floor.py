"""Floor bugs a user hits, on loopback with real aiortc peers: a speaker who leaves
mid-utterance, an utterance with no words, words a slow recognizer gives only at the end,
a recognizer that lags the voice, and a late joiner's view of the room."""

from __future__ import annotations

from pathlib import Path

import httpx

from clients.fixtures import labelled_speech
from clients.rtc import EventLog, join
from clients.tracks import CueTrack
from tests.fakes import FakeSpeechToText, FakeTextToSpeech, GatedSpeechToText
from tests.serving import serve_podium


async def _agent_speaking(
    http: httpx.AsyncClient, url: str, who: str
) -> tuple[str, EventLog, CueTrack, object, dict[str, str]]:
    room = (await http.post(f"{url}/rooms", json={"topic": "Trams"})).json()
    log = EventLog(http, url, room["id"])
    await log.wait_for("subscribed")
    track = CueTrack()
    peer = await join(http, url, room["id"], "speaker", track, name=who)
    await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, tell me", "name": who})
    [turn] = await log.wait_for("turn_started")
    [first, *_] = await log.wait_for("words_played", count=2, task_id=turn["task_id"])
    await log.wait_until(  # past the echo guard's warm-up
        lambda events: any(
            e["type"] == "words_played" and e["t"] >= first["t"] + 0.6 for e in events
        )
    )
    return room["id"], log, track, peer, turn


async def test_a_speaker_who_leaves_mid_utterance_gives_the_floor_back(tmp_path: Path) -> None:
    engines = (FakeSpeechToText([]), FakeTextToSpeech())  # no words: only leaving ends it
    with serve_podium(tmp_path, engines=engines) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room_id, log, track, peer, turn = await _agent_speaking(http, url, "Ann")
            clip = labelled_speech()[0]
            track.play(clip.pcm, clip.onset)
            [ducked] = await log.wait_for("ducked", timeout=10)
            await peer.close()  # the page is closed while Ann is still talking
            [resumed] = await log.wait_for("resumed", timeout=10)
            assert resumed["reason"] == "left" and resumed["task_id"] == turn["task_id"]
            await log.wait_for("participant_left", name="Ann", timeout=10)
            [ended] = await log.wait_for("turn_ended", task_id=turn["task_id"], timeout=30)
            assert ended["state"] == "completed", "the debater finished its turn"
            info = (await http.get(f"{url}/rooms/{room_id}")).json()
            assert info["floor"] is None and info["participants"] == []
            assert ducked["t"] <= resumed["t"]
            await log.close()


async def test_an_utterance_with_no_words_resumes_the_debater_where_it_paused(
    tmp_path: Path,
) -> None:
    engines = (FakeSpeechToText([]), FakeTextToSpeech())
    with serve_podium(tmp_path, engines=engines) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            _, log, track, peer, turn = await _agent_speaking(http, url, "Bo")
            clip = labelled_speech()[1]  # 2.5 s of voice the recognizer makes nothing of
            track.play(clip.pcm, clip.onset)
            await log.wait_for("ducked", timeout=10)
            [resumed] = await log.wait_for("resumed", timeout=15)
            assert resumed["reason"] == "no words" and resumed["task_id"] == turn["task_id"]
            [final] = await log.wait_for("final_transcript", who="Bo", typed=False, timeout=15)
            assert final["text"] == "" and final["ignored"] is None
            assert not log.of("interrupted")
            [ended] = await log.wait_for("turn_ended", task_id=turn["task_id"], timeout=30)
            assert ended["state"] == "completed"
            later = log.events[log.events.index(resumed) :]
            assert any(e["type"] == "words_played" for e in later), "the voice went on"
            await log.close()
            await peer.close()


async def test_a_late_joiner_sees_the_turns_so_far_and_the_running_turn(tmp_path: Path) -> None:
    with serve_podium(tmp_path, engines=(FakeSpeechToText([]), FakeTextToSpeech())) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (
                await http.post(
                    f"{url}/rooms", json={"topic": "Trams", "debate": True, "rounds": 2}
                )
            ).json()
            early = EventLog(http, url, room["id"])
            [first] = await early.wait_for("turn_ended", timeout=30)
            [_, second] = await early.wait_for("turn_started", count=2, timeout=30)
            await early.wait_for("words_played", count=2, task_id=second["task_id"])
            late = EventLog(http, url, room["id"])
            [snapshot] = await late.wait_for("subscribed")
            replay = snapshot["transcript"]
            assert replay[0]["type"] == "debate_started", "the 'debate started' line is kept"
            merged = [e for e in replay if e["type"] == "words_played"]
            first_words = "".join(
                e["text"] for e in early.of("words_played") if e["task_id"] == first["task_id"]
            )
            assert merged[0]["task_id"] == first["task_id"] and merged[0]["text"] == first_words
            running = merged[-1]
            assert running["task_id"] == second["task_id"] and running["text"], "words so far"
            # The snapshot and the live events after it add up to the whole turn, exactly.
            await late.wait_for("turn_ended", task_id=second["task_id"], timeout=30)
            await early.wait_for("turn_ended", task_id=second["task_id"], timeout=30)
            live = "".join(
                e["text"]
                for e in late.of("words_played")
                if e["task_id"] == second["task_id"] and not e.get("replayed")
            )
            whole = "".join(
                e["text"] for e in early.of("words_played") if e["task_id"] == second["task_id"]
            )
            assert running["text"] + live == whole
            await early.close()
            await late.close()


async def test_words_that_come_after_the_debater_resumed_still_cut_it_and_are_answered(
    tmp_path: Path,
) -> None:
    """A slow recognizer: no word while the person speaks (the floor resumes the debater after
    1.5 s of voice with none), then the final transcript has them: the debater is cut and the
    person is answered."""
    slow = FakeSpeechToText(["trams", "are", "better"], seconds_per_word=60.0)
    with serve_podium(tmp_path, engines=(slow, FakeTextToSpeech())) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            _, log, track, peer, turn = await _agent_speaking(http, url, "Cy")
            clip = labelled_speech()[1]  # 2.5 s of voice
            track.play(clip.pcm, clip.onset)
            [resumed] = await log.wait_for("resumed", timeout=15)
            assert resumed["reason"] == "no words" and resumed["task_id"] == turn["task_id"]
            [final] = await log.wait_for("final_transcript", who="Cy", typed=False, timeout=15)
            assert final["text"] == "trams are better" and final["ignored"] is None
            [cut] = await log.wait_for("interrupted", task_id=turn["task_id"], timeout=10)
            assert cut["reason"] == "utterance"
            answers = await log.wait_for("turn_started", count=2, timeout=20)
            assert answers[-1]["task_id"] != turn["task_id"]
            await log.close()
            await peer.close()


async def test_a_recognizer_that_lags_the_voice_does_not_let_the_debater_resume_over_words(
    tmp_path: Path,
) -> None:
    """The recognizer hears nothing while the person speaks 2.5 s (CPU starved), then catches
    up: the debater stays ducked (it is not "no words" before the words were listened for),
    the words cut it, and the person is answered."""
    lagging = GatedSpeechToText(["trams", "are", "better"])
    with serve_podium(tmp_path, engines=(lagging, FakeTextToSpeech())) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            _, log, track, peer, turn = await _agent_speaking(http, url, "Di")
            clip = labelled_speech()[1]  # 2.5 s of voice
            track.play(clip.pcm, clip.onset)
            await log.wait_for("ducked", timeout=10)
            [stopped] = await log.wait_for("speech_stopped", timeout=15)
            assert stopped["duration"] > 2.0, "voiced past the wordless limit"
            lagging.gate.set()
            [cut] = await log.wait_for("interrupted", task_id=turn["task_id"], timeout=10)
            assert cut["by"] == "Di" and cut["kind"] == "human"
            assert not log.of("resumed"), "the debater was held, not resumed, meanwhile"
            answers = await log.wait_for("turn_started", count=2, timeout=20)
            assert answers[-1]["task_id"] != turn["task_id"]
            await log.close()
            await peer.close()
