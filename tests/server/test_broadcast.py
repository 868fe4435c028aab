"""The live broadcast on loopback with a real server: the playlist behind a keyed redirect,
a blocking reload instead of polling, segments that decode with PyAV and hold the voiced
turn, cache headers a CDN can act on, and keys as the only way in to the keyed URLs."""

from __future__ import annotations

import io
from pathlib import Path

import av
import httpx
import numpy as np

from clients.rtc import EventLog
from tests.server.test_room_links import ALICE, KEYS, bearer
from tests.serving import serve_podium


def decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return audio * 32768.0 if audio.dtype.kind == "f" else audio.astype(np.float64)


def listed(playlist: str) -> list[int]:
    return [int(line.split(".")[0]) for line in playlist.splitlines() if line.endswith(".m4s")]


async def test_the_broadcast_plays_the_room_and_caches_can_serve_it(tmp_path: Path) -> None:
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (await http.post(f"{url}/rooms", json={"topic": "Canals"})).json()
            live = await http.get(f"{url}/rooms/{room['id']}/live.m3u8")
            assert live.status_code == 302 and live.headers["cache-control"] == "no-store"
            keyed = f"{url}{live.headers['location']}"
            assert keyed.endswith("/index.m3u8") and "/live/" in keyed
            base = keyed.removesuffix("index.m3u8")
            log = EventLog(http, url, room["id"])
            await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, why?"})
            await log.wait_for("turn_started", timeout=30)
            first = (await http.get(keyed, params={"_HLS_msn": 0})).text  # waits for segment 0
            assert first.startswith("#EXTM3U") and '#EXT-X-MAP:URI="init.mp4"' in first
            await log.wait_for("turn_ended", timeout=60)
            newest = listed(first)[-1]
            reloaded = await http.get(keyed, params={"_HLS_msn": newest + 2})  # blocks till out
            assert reloaded.headers["content-type"] == "application/vnd.apple.mpegurl"
            assert reloaded.headers["cache-control"] == "public, max-age=6"
            seqs = listed(reloaded.text)
            assert newest + 2 in seqs and seqs == list(range(seqs[0], seqs[-1] + 1))
            assert (await http.get(keyed)).headers["cache-control"] == "public, max-age=1"

            init = await http.get(f"{base}init.mp4")
            assert init.headers["cache-control"] == "public, max-age=3600, immutable"
            segments = [await http.get(f"{base}{seq}.m4s") for seq in seqs]
            assert all(s.status_code == 200 for s in segments)
            assert segments[0].headers["cache-control"] == "public, max-age=3600, immutable"
            audio = decode(init.content + b"".join(s.content for s in segments))
            assert abs(len(audio) / 48000 - 2.0 * len(seqs)) < 0.1
            loudest = max(
                np.sqrt(np.mean(audio[i : i + 4800] ** 2)) for i in range(0, len(audio), 4800)
            )
            assert loudest > 300  # the voiced turn is in the broadcast

            for msn in ("-5", "abc"):
                assert (await http.get(keyed, params={"_HLS_msn": msn})).status_code == 422
            wrong = keyed.replace("/live/", "/live/x")
            assert (await http.get(wrong)).status_code == 404
            assert (await http.get(f"{base}999999.m4s")).status_code == 404
            await log.close()


async def test_the_keyed_urls_are_the_credential_the_redirect_is_not_public(
    tmp_path: Path,
) -> None:
    with serve_podium(tmp_path, auth=KEYS) as url:
        async with httpx.AsyncClient(timeout=20) as http:
            room = (
                await http.post(f"{url}/rooms", json={"topic": "Gates"}, headers=bearer(ALICE))
            ).json()
            assert (await http.get(f"{url}/rooms/{room['id']}/live.m3u8")).status_code == 401
            token = {link["grant"]: link["token"] for link in room["links"]}["listen"]
            live = await http.get(
                f"{url}/rooms/{room['id']}/live.m3u8", headers={"Authorization": f"Bearer {token}"}
            )
            assert live.status_code == 302
            keyed = f"{url}{live.headers['location']}"
            anonymous = await http.get(keyed, params={"_HLS_msn": 0})  # no credential: the key
            assert anonymous.status_code == 200 and "0.m4s" in anonymous.text
