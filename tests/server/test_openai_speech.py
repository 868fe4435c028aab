"""The OpenAI-compatible speech engines against a local endpoint, alone and in a room."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import numpy as np
import pytest
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client
from clients.fixtures import labelled_speech
from clients.rtc import EventLog, join
from clients.tracks import ScriptedTrack
from media.openai_speech import OpenAISpeechToText, OpenAITextToSpeech, spread_words
from media.stt import RecognitionError
from media.tts import SynthesisError
from media.voice import VoiceChannel
from server.settings import SpeechSettings
from tests.fake_audio_api import FakeAudioApi
from tests.serving import serve_app, serve_podium
from tests.sse import read_events

WORDS = "he was not an ill disposed young man"


def test_engines_send_real_audio_and_get_timed_speech_back() -> None:
    api = FakeAudioApi(WORDS)
    clip = labelled_speech()[1]
    with serve_app(api.app) as url:
        stt = OpenAISpeechToText("whisper-1", f"{url}/v1", None)
        utterance = asyncio.run(stt.recognizer())
        for start in range(0, len(clip.pcm), 1600):
            assert asyncio.run(utterance.feed(clip.pcm[start : start + 1600])) == ""
        assert asyncio.run(utterance.finish()) == WORDS
        [upload] = api.uploads
        assert upload["rate"] == 16000 and upload["channels"] == 1
        assert upload["seconds"] == pytest.approx(len(clip.pcm) / 16000, abs=0.01)

        tts = OpenAITextToSpeech("tts-1", f"{url}/v1", None)
        speech = tts.synthesize("Trams are quiet, cheap and fair.", "en-us+f3")
        assert speech.sample_rate == 24000 and np.abs(speech.pcm).max() > 3000
        assert api.spoken[0]["voice"] == OpenAITextToSpeech.voice_for("en-us+f3")
        mei, shuai = "en-us+f3", "en-us+m3"  # the default debaters' voices stay distinct
        assert OpenAITextToSpeech.voice_for(mei) != OpenAITextToSpeech.voice_for(shuai)
        channel = VoiceChannel("mei")
        channel.enqueue(speech, "Trams are quiet, cheap and fair.")
        while channel.read() is not None:
            pass
        heard = []
        while not channel._played.empty():
            heard.append(channel._played.get_nowait())
        assert "".join(p for p in heard if p) == "Trams are quiet, cheap and fair."

        api.fail = True
        with pytest.raises(SynthesisError, match="speech endpoint failed"):
            tts.synthesize("Hello.", "alloy")
        failing = asyncio.run(stt.recognizer())
        asyncio.run(failing.feed(clip.pcm[:1600]))
        with pytest.raises(RecognitionError, match="transcription endpoint failed"):
            asyncio.run(failing.finish())


def test_word_timings_are_spread_in_order() -> None:
    timings = spread_words("one three fifteen", 3.0)
    assert [t.word for t in timings] == ["one", "three", "fifteen"]
    assert [t.text_end for t in timings] == [3, 9, 17]
    assert 0 == timings[0].start < timings[1].start < timings[2].start < 3.0


async def test_a_room_hears_and_speaks_through_the_endpoint(tmp_path: Path) -> None:
    api = FakeAudioApi(f"Shuai, {WORDS}")
    clip = labelled_speech()[1]
    with serve_app(api.app) as audio_url:
        speech = SpeechSettings(stt="openai", tts="openai", base_url=f"{audio_url}/v1")
        with serve_podium(tmp_path, speech=speech) as url:
            async with httpx.AsyncClient(timeout=30) as http:
                room = (await http.post(f"{url}/rooms", json={"topic": "Manners"})).json()
                log = EventLog(http, url, room["id"])
                peer = await join(http, url, room["id"], "speaker", ScriptedTrack(clip.pcm, 0.5))
                [final] = await log.wait_for("final_transcript", timeout=30)
                assert final["text"] == f"Shuai, {WORDS}"
                [turn] = await log.wait_for("turn_started", timeout=30)
                assert turn["agent"] == "shuai", "routed by name"
                await log.wait_for("words_played", count=3, task_id=turn["task_id"], timeout=30)
                await peer.wait_loud(10)  # the endpoint's voice reached the client
                assert api.spoken and api.uploads[0]["seconds"] > 2.0
                await peer.close()
                await log.close()


async def test_a_failing_speech_endpoint_fails_the_turn_not_the_room(tmp_path: Path) -> None:
    api = FakeAudioApi(WORDS)
    api.fail = True
    with serve_app(api.app) as audio_url:
        speech = SpeechSettings(stt="openai", tts="openai", base_url=f"{audio_url}/v1")
        with serve_podium(tmp_path, speech=speech) as url:
            async with httpx.AsyncClient(timeout=30) as http:
                room = (await http.post(f"{url}/rooms", json={"topic": "Faults"})).json()
                log = EventLog(http, url, room["id"])
                await log.wait_for("subscribed")
                said = f"{url}/rooms/{room['id']}/say"
                await http.post(said, json={"text": "Mei, hello?"})
                [error] = await log.wait_for("engine_failed", timeout=20)
                assert error["stage"] == "tts" and "speech endpoint failed" in error["message"]
                [ended] = await log.wait_for("turn_ended", timeout=20)
                assert ended["state"] == "failed"
                client = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
                # The room's turn_ended comes as the voice stops; /stream's final status
                # comes once the store holds the terminal task.
                async with http.stream("GET", f"{url}/stream/{ended['task_id']}") as response:
                    events = await read_events(response)
                assert events[-1].event == "status" and events[-1].data == "failed"
                task = await client.get_task(pb.GetTaskRequest(id=ended["task_id"]))
                assert task.status.state == pb.TaskState.TASK_STATE_FAILED
                assert "text to speech failed" in text_of_status(task)
                api.fail = False  # the endpoint recovers: the room goes on
                await http.post(said, json={"text": "Mei, and now?"})
                [_, second] = await log.wait_for("turn_ended", count=2, timeout=30)
                assert second["state"] == "completed"
                await log.close()


def text_of_status(task: pb.Task) -> str:
    return "".join(part.text for part in task.status.message.parts)
