"""Recordings on loopback with a real server: a recorded room's mix decodes with PyAV at the
room's length with speech where turns were voiced, captions at the times words were played,
byte ranges for seeking, and the owner rules (a stranger sees nothing, a room link reads
its room's recordings and deletes none)."""

from __future__ import annotations

import io
import re
import sqlite3
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from a2a.types import a2a_pb2 as pb

from clients.a2a import fetch_card, make_client
from clients.rtc import EventLog, join
from server.settings import RecordingSettings
from tests.server.test_room_links import ALICE, BOB, KEYS, bearer
from tests.serving import serve_podium

FAST = RecordingSettings(store_seconds=0.3)


def decoded(data: bytes) -> tuple[np.ndarray, int]:
    """The whole Ogg/Opus file as mono floats, and its rate."""
    with av.open(io.BytesIO(data)) as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    return np.concatenate(frames).astype(np.float64) / (
        1 if frames[0].dtype.kind == "f" else 32768
    ), rate


def level_db(audio: np.ndarray, rate: int, start: float, end: float) -> float:
    part = audio[int(start * rate) : int(end * rate)]
    return float(20 * np.log10(np.sqrt(np.mean(part**2)) + 1e-9))


def cues(vtt: str) -> list[tuple[float, str, str]]:
    """(start, speaker, text) of every cue."""
    found = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> .*\n<v ([^>]+)>(.*)</v>", vtt)
    return [
        (int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000, who, text)
        for h, m, s, ms, who, text in found
    ]


async def test_a_recorded_room_plays_back_with_its_words_at_the_right_times(
    tmp_path: Path,
) -> None:
    with serve_podium(tmp_path, recordings=FAST) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Tides", "record": True})).json()
            recording_id = room["recording"]["id"]
            log = EventLog(http, url, room["id"])
            await log.wait_for("subscribed")
            assert log.of("subscribed")[0]["info"]["recording"]["id"] == recording_id
            listener = await join(http, url, room["id"], "listener")  # hears the room's clock
            said = await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, why?"})
            assert said.status_code == 202
            await log.wait_for("turn_ended", timeout=60)
            await listener.wait_until(time.monotonic() + 1.0)  # a second of the room after it
            await listener.close()
            stopped = await http.delete(f"{url}/rooms/{room['id']}/recording")
            assert stopped.status_code == 200 and stopped.json()["id"] == recording_id
            await log.wait_for("recording_stopped")
            assert (await http.get(f"{url}/rooms/{room['id']}")).json()["recording"] is None

            info = (await http.get(f"{url}/recordings/{recording_id}")).json()
            assert info["state"] == "finished" and info["room"] == room["id"]
            assert info["topic"] == "Tides" and info["size"] > 1000
            assert info["speakers"] == ["guest", "mei"]  # who spoke, in order
            listed = (await http.get(f"{url}/recordings")).json()
            assert [r["id"] for r in listed] == [recording_id]

            audio = await http.get(f"{url}/recordings/{recording_id}/audio")
            assert audio.status_code == 200 and audio.headers["content-type"] == "audio/ogg"
            assert int(audio.headers["content-length"]) == info["size"] == len(audio.content)
            samples, rate = decoded(audio.content)
            assert abs(len(samples) / rate - info["duration"]) < 0.1

            document = (await http.get(f"{url}/recordings/{recording_id}/transcript.json")).json()
            agent_turns = [t for t in document["turns"] if t["kind"] == "agent"]
            typed = [t for t in document["turns"] if t["kind"] == "typed"]
            assert typed and typed[0]["text"] == "Mei, why?"
            assert len(agent_turns) == 1 and agent_turns[0]["state"] == "completed"
            words = agent_turns[0]["words"]
            assert len(words) >= 3
            first, last = words[0]["start"], words[-1]["end"]
            assert level_db(samples, rate, first, last) > -40  # speech where the turn was voiced
            assert level_db(samples, rate, last + 0.3, last + 0.9) < -60  # silence after

            vtt = await http.get(f"{url}/recordings/{recording_id}/transcript.vtt")
            assert vtt.headers["content-type"].startswith("text/vtt")
            assert vtt.text.startswith("WEBVTT")
            captions = cues(vtt.text)
            assert captions and {who for _, who, _ in captions} >= {"guest"}
            played = log.of("words_played")
            assert " ".join(text for _, who, text in captions if who != "guest").split() == (
                "".join(e["text"] for e in played).split()
            )
            # Words and cues at the times the words_played events came, from the start.
            heard, so_far = [], ""  # when each new word came (a piece glued on is not one)
            for event in played:
                starts_word = not so_far or so_far[-1].isspace() or event["text"][:1].isspace()
                if event["text"].strip() and starts_word:
                    heard.append(event["t"] - info["started"])
                so_far += event["text"]
            starts = [w["start"] for w in words]
            for at in heard:
                assert min(abs(at - start) for start in starts) < 0.1, (
                    [(round(e["t"] - info["started"], 2), e["text"]) for e in played][-6:],
                    [(w["word"], w["start"]) for w in words][-6:],
                )
            for start, who, _ in captions:
                if who != "guest":
                    assert min(abs(at - start) for at in heard) < 0.1, (start, heard)

            # The turn's A2A task has the audio as heard, fetched with the a2a-sdk client.
            card = await fetch_card(http, f"{url}/agents/mei")
            task = await make_client(http, card).get_task(
                pb.GetTaskRequest(id=agent_turns[0]["task_id"])
            )
            (audio_artifact,) = [a for a in task.artifacts if a.name == "audio"]
            (part,) = audio_artifact.parts
            assert part.media_type == "audio/ogg" and part.url.startswith(f"{url}/recordings/")
            heard_clip = await http.get(part.url)
            assert heard_clip.status_code == 200, heard_clip.text
            spoken, clip_rate = decoded(heard_clip.content)
            assert abs(len(spoken) / clip_rate - (agent_turns[0]["end"] - first)) < 0.1
            assert level_db(spoken, clip_rate, 0.0, len(spoken) / clip_rate) > -40
            await log.close()


async def test_ranges_for_seeking_and_a_range_past_the_end(tmp_path: Path) -> None:
    with serve_podium(tmp_path, recordings=FAST) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Seek"})).json()
            started = await http.post(f"{url}/rooms/{room['id']}/recording")
            assert started.status_code == 201
            recording_id = started.json()["id"]
            again = await http.post(f"{url}/rooms/{room['id']}/recording")
            assert again.status_code == 409
            log = EventLog(http, url, room["id"])
            await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Ada, go on."})
            await log.wait_for("turn_ended", timeout=60)
            await http.delete(f"{url}/rooms/{room['id']}")  # the recording outlives its room
            info = (await http.get(f"{url}/recordings/{recording_id}")).json()
            assert info["state"] == "finished" and info["reason"] == "the room was closed"
            whole = (await http.get(f"{url}/recordings/{recording_id}/audio")).content
            size = len(whole)
            audio = f"{url}/recordings/{recording_id}/audio"
            for asked, first, last in (
                ("bytes=0-99", 0, 99),
                (f"bytes={size - 10}-", size - 10, size - 1),
                ("bytes=-50", size - 50, size - 1),
                (f"bytes=100-{size + 500}", 100, size - 1),
            ):
                part = await http.get(audio, headers={"Range": asked})
                assert part.status_code == 206, asked
                assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
                assert part.content == whole[first : last + 1]
            beyond = await http.get(audio, headers={"Range": f"bytes={size}-"})
            assert beyond.status_code == 416
            assert beyond.headers["content-range"] == f"bytes */{size}"
            assert (await http.get(f"{url}/recordings/nope/audio")).status_code == 404
            for span, status in (
                ("start=5&end=2", 400),
                ("start=-1", 422),
                ("start=900&end=901", 416),
            ):
                assert (await http.get(f"{audio}?{span}")).status_code == status, span
            for header in ("bytes=abc", "items=0-5", "bytes=0-1,5-9"):  # not one range: all of it
                whole_again = await http.get(audio, headers={"Range": header})
                assert whole_again.status_code == 200 and whole_again.content == whole
            assert (await http.delete(f"{url}/recordings/{recording_id}")).status_code == 204
            assert (await http.get(f"{url}/recordings/{recording_id}")).status_code == 404
            await log.close()


async def test_a_recording_is_its_owners_and_its_room_links_reads_it(tmp_path: Path) -> None:
    with serve_podium(tmp_path, auth=KEYS, recordings=FAST) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            created = await http.post(
                f"{url}/rooms", json={"topic": "Owls", "record": True}, headers=bearer(ALICE)
            )
            room = created.json()
            recording_id = room["recording"]["id"]
            token = {link["grant"]: link["token"] for link in room["links"]}["listen"]
            guest = {"Authorization": f"Bearer {token}"}
            mine = f"{url}/recordings/{recording_id}"
            assert (await http.get(mine, headers=bearer(BOB))).status_code == 404
            assert (await http.get(f"{url}/recordings", headers=bearer(BOB))).json() == []
            assert (await http.delete(mine, headers=bearer(BOB))).status_code == 404
            assert (await http.get(mine, headers=guest)).json()["state"] == "recording"
            assert [
                r["id"] for r in (await http.get(f"{url}/recordings", headers=guest)).json()
            ] == [recording_id]
            assert (await http.delete(mine, headers=guest)).status_code == 403
            stop = await http.delete(f"{url}/rooms/{room['id']}/recording", headers=guest)
            assert stop.status_code == 403
            # Deleting a recording in progress stops it first; the room goes on unrecorded.
            assert (await http.delete(mine, headers=bearer(ALICE))).status_code == 204
            info = (await http.get(f"{url}/rooms/{room['id']}", headers=bearer(ALICE))).json()
            assert info["recording"] is None and info["state"] == "open"
            assert (await http.get(mine, headers=bearer(ALICE))).status_code == 404


async def test_a_database_that_refuses_stops_the_recording_and_the_debate_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with serve_podium(tmp_path, recordings=FAST) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Dams", "record": True})).json()
            log = EventLog(http, url, room["id"])
            await log.wait_for("subscribed")
            with sqlite3.connect(tmp_path / "podium.sqlite3") as database:
                database.execute("DROP TABLE recording_chunks")  # the database refuses from now
            (stopped,) = await log.wait_for("recording_stopped", timeout=10)
            assert stopped["state"] == "failed" and "database" in stopped["reason"]
            (failed,) = await log.wait_for("engine_failed")
            assert failed["stage"] == "recording"
            assert any(
                "recording" in r.getMessage() and "database" in r.getMessage()
                for r in caplog.records
                if r.levelname == "WARNING"
            )
            said = await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Ada?"})
            assert said.status_code == 202
            await log.wait_for("turn_ended", timeout=60)
            info = (await http.get(f"{url}/rooms/{room['id']}")).json()
            assert info["recording"] is None and info["state"] == "open"
            await log.close()
