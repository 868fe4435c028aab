"""A recording made on one replica is served by the other, from the PostgreSQL they share:
its description, its audio (whole and by range) and its transcript; starting and stopping it
through the replica that does not hold the room; and the room's broadcast through it."""

from __future__ import annotations

from pathlib import Path

import httpx

from clients.rtc import EventLog
from tests.postgres import Postgres
from tests.serving import podium_process


async def test_a_recording_made_on_one_replica_is_served_by_the_other(
    tmp_path: Path, postgres: Postgres
) -> None:
    env = {
        "PODIUM_DATABASE_URL": postgres.create("replica_recordings"),
        "PODIUM_RECORDINGS__STORE_SECONDS": "0.3",
    }
    with (
        podium_process(tmp_path / "a", **env) as (a, _),
        podium_process(tmp_path / "b", **env) as (b, _),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            room = (await http.post(f"{a}/rooms", json={"topic": "Ferries"})).json()
            started = await http.post(f"{b}/rooms/{room['id']}/recording")  # passed on to A
            assert started.status_code == 201, started.text
            recording_id = started.json()["id"]
            log = EventLog(http, b, room["id"])
            (subscribed,) = await log.wait_for("subscribed")
            assert subscribed["info"]["recording"]["id"] == recording_id  # as A holds it
            await http.post(f"{b}/rooms/{room['id']}/say", json={"text": "Mei, why?"})
            await log.wait_for("turn_ended", timeout=60)
            stopped = await http.delete(f"{b}/rooms/{room['id']}/recording")
            assert stopped.status_code == 200 and stopped.json()["id"] == recording_id
            await log.wait_for("recording_stopped")
            await log.close()

            on_a = (await http.get(f"{a}/recordings/{recording_id}")).json()
            on_b = (await http.get(f"{b}/recordings/{recording_id}")).json()
            assert on_b == on_a and on_b["state"] == "finished" and on_b["size"] > 1000
            audio_a = (await http.get(f"{a}/recordings/{recording_id}/audio")).content
            audio_b = (await http.get(f"{b}/recordings/{recording_id}/audio")).content
            assert audio_a == audio_b and len(audio_b) == on_b["size"]
            part = await http.get(
                f"{b}/recordings/{recording_id}/audio", headers={"Range": "bytes=1000-1999"}
            )
            assert part.status_code == 206 and part.content == audio_a[1000:2000]
            document = (await http.get(f"{b}/recordings/{recording_id}/transcript.json")).json()
            spoken = [t for t in document["turns"] if t["kind"] == "agent"]
            assert len(spoken) == 1 and spoken[0]["speaker"] == "mei" and spoken[0]["words"]

            # The room's broadcast through B: the redirect, the playlist and a segment from A.
            live = await http.get(f"{b}/rooms/{room['id']}/live.m3u8")
            assert live.status_code == 302
            keyed = f"{b}{live.headers['location']}"
            playlist = (await http.get(keyed, params={"_HLS_msn": 0})).text
            assert "0.m4s" in playlist
            segment = await http.get(keyed.replace("index.m3u8", "0.m4s"))
            assert segment.status_code == 200 and segment.content[4:8] == b"moof"  # a fragment
