"""A scenario corpus for conversation dynamics: short scripted timelines run against a real
room on loopback (aiortc speakers, the server's real voice detector and engines), each with
the outcomes a person would expect.

A scenario asks a debater something, waits until its answer is being voiced, then plays its
acts (someone speaks, coughs, says "mm-hm", a beep or traffic starts, someone leaves) at
their times, and reads what the room did from its events: ducked or not, interrupted or
resumed, who answered, what was heard. ``tests/server/test_scenarios.py`` checks the
expectations; ``benchmarks/scenarios.py`` reports the figures (false and missed barge-ins,
overlap per interruption).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from clients.fixtures import labelled_speech, noise
from clients.noise_corpus import RATE, sound, to_pcm, voiced_level_dbfs
from clients.rtc import EventLog, Peer, join
from clients.tracks import CueTrack, StalledTrack

Pcm = npt.NDArray[np.int16]


def mm_hm() -> Pcm:
    """A hummed "mm-hm": two nasal murmurs, the second rising, 80 ms apart."""
    parts = []
    for seconds, start_hz, end_hz in ((0.22, 125, 115), (0.08, 0, 0), (0.3, 115, 160)):
        n = int(seconds * RATE)
        if not start_hz:
            parts.append(np.zeros(n))
            continue
        phase = 2 * np.pi * np.cumsum(np.linspace(start_hz, end_hz, n)) / RATE
        voice = sum(np.sin(k * phase) / k**2 for k in range(1, 12))
        edges = np.minimum(1, np.minimum(np.arange(n), n - np.arange(n)) / (0.03 * RATE))
        parts.append(voice * edges)
    x = np.concatenate(parts)
    return to_pcm(x / np.abs(x).max() * 0.3)


def speech(index: int) -> tuple[Pcm, float]:
    """A speech fixture and its labelled onset."""
    clip = labelled_speech()[index % 3]
    return clip.pcm, clip.onset


def paused_speech(pause: float = 0.4) -> tuple[Pcm, float]:
    """A fixture sentence with a pause cut into it between two words (room tone)."""
    clip = labelled_speech()[0]
    cut = int(2.26 * RATE)
    room = noise("fixture-background", pause)
    return np.concatenate([clip.pcm[:cut], room, clip.pcm[cut:]]), clip.onset


def everyday(kind: str, seconds: float = 3.0) -> tuple[Pcm, float]:
    """A noise-corpus class at the fixtures' own speech level."""
    level = voiced_level_dbfs(labelled_speech()[0].pcm)
    return to_pcm(sound(kind, seconds, level, seed=11)), 0.0


@dataclass(frozen=True)
class Act:
    at: float  # seconds after the debater's third word was played
    who: str
    sound: tuple[Pcm, float] | None = None  # audio and its speech onset; None: leaves
    leave_after: float | None = None  # leaves this long after the sound's onset


@dataclass(frozen=True)
class Expect:
    ducked: bool | None = None
    interrupted: bool | None = None
    answered: bool | None = None  # a new turn answered what the person said
    utterances: int | None = None  # final transcripts (not ignored) from people


@dataclass(frozen=True)
class Scenario:
    name: str
    acts: tuple[Act, ...]
    expect: Expect
    people: tuple[str, ...] = ("Ann",)
    debate: bool = False  # two debaters and no people: agents cut in on each other


@dataclass
class Outcome:
    ducked: bool = False
    interrupted: bool = False
    answered: bool = False
    utterances: int = 0
    heard: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)  # the room's figures
    unsettled: str | None = None  # what the room was doing when it failed to settle
    story: list[str] = field(default_factory=list)  # the room's floor events, in order

    def misses(self, expect: Expect) -> list[str]:
        """Every expectation the outcome broke, as text."""
        broken = [f"never settled: {self.unsettled}"] if self.unsettled else []
        for name in ("ducked", "interrupted", "answered", "utterances"):
            wanted = getattr(expect, name)
            if wanted is not None and getattr(self, name) != wanted:
                broken.append(f"{name}: expected {wanted}, got {getattr(self, name)}")
        return broken


CORPUS: tuple[Scenario, ...] = (
    Scenario(
        "talk over a debater",
        (Act(0.3, "Ann", speech(1)),),
        Expect(ducked=True, interrupted=True, answered=True),
    ),
    Scenario("a cough", (Act(0.3, "Ann", everyday("cough", 1.0)),), Expect(interrupted=False)),
    Scenario("mm-hm", (Act(0.3, "Ann", (mm_hm(), 0.0)),), Expect(interrupted=False)),
    Scenario(
        "Chromium's beep",
        (Act(0.3, "Ann", everyday("chromium-beep")),),
        Expect(ducked=False, interrupted=False),
    ),
    Scenario(
        "traffic rumble",
        (Act(0.3, "Ann", everyday("rumble")),),
        Expect(ducked=False, interrupted=False),
    ),
    Scenario(
        "two people at once",
        (Act(0.3, "Ann", speech(0)), Act(0.3, "Bo", speech(2))),
        Expect(ducked=True, interrupted=True, answered=True),
        people=("Ann", "Bo"),
    ),
    Scenario(
        "a pause mid-sentence",
        (Act(0.3, "Ann", paused_speech()),),
        Expect(ducked=True, interrupted=True, answered=True),
    ),
    Scenario(
        "leaves mid-utterance",
        (Act(0.3, "Ann", speech(0), leave_after=0.25),),
        Expect(ducked=True, interrupted=False, answered=False),
    ),
    Scenario("a debater cuts in", (), Expect(interrupted=True), people=(), debate=True),
)


async def run(http: httpx.AsyncClient, url: str, scenario: Scenario) -> Outcome:
    """Plays ``scenario`` in a room of its own; returns what the room did."""
    body: dict[str, Any] = {"topic": f"Trams ({scenario.name})"}
    if scenario.debate:
        body |= {"debate": True, "rounds": 1, "interruptions": 1}  # one round holds a cut-in
    room = (await http.post(f"{url}/rooms", json=body)).json()
    log = EventLog(http, url, room["id"])
    tracks = {name: CueTrack() for name in scenario.people}
    peers: dict[str, Peer] = {}
    try:
        for name, track in tracks.items():
            peers[name] = await join(http, url, room["id"], "speaker", track, name=name)
            await peers[name].connected()
        if scenario.debate:
            await log.wait_for("debate_finished", timeout=240)
            return _outcome(log, None, await _stats(http, url, room["id"]))
        await http.post(f"{url}/rooms/{room['id']}/say", json={"text": "Mei, why trams?"})
        [turn] = await log.wait_for("turn_started", timeout=60)
        await log.wait_for("words_played", count=3, task_id=turn["task_id"], timeout=30)
        await asyncio.gather(*(_act(act, tracks[act.who], peers) for act in scenario.acts))
        unsettled = await _settle(log, turn["task_id"])
        outcome = _outcome(log, turn["task_id"], await _stats(http, url, room["id"]))
        outcome.unsettled = unsettled
        return outcome
    finally:  # bounded: a peer that cannot close must not hold the run up
        await asyncio.wait_for(_leave(http, url, room["id"], peers, log), CLEANUP_SECONDS)


CLEANUP_SECONDS = 20.0


async def _leave(
    http: httpx.AsyncClient, url: str, room_id: str, peers: dict[str, Peer], log: EventLog
) -> None:
    for peer in peers.values():
        await peer.close()
    await log.close()
    await http.delete(f"{url}/rooms/{room_id}")


async def _act(act: Act, track: CueTrack, peers: dict[str, Peer]) -> None:
    await asyncio.sleep(act.at)  # the script's timeline, not a synchronization
    if act.sound is not None:
        pcm, onset = act.sound
        track.play(pcm, onset)
    try:
        if act.leave_after is not None:
            assert act.sound is not None
            await track.sent(act.sound[1] + act.leave_after)  # mid-utterance, by the script
            await peers.pop(act.who).close()
            return
        await track.finished()
    except StalledTrack as error:
        peer = peers[act.who]
        raise StalledTrack(f"{act.who} ({peer.participant_id}): {error}; {peer.states()}") from None


async def _stats(http: httpx.AsyncClient, url: str, room_id: str) -> dict[str, Any]:
    stats: dict[str, Any] = (await http.get(f"{url}/rooms/{room_id}")).json()["stats"]
    return stats


async def _settle(log: EventLog, task_id: str) -> str | None:
    """Waits until the room has dealt with every act: each utterance it heard is finished,
    and the debater was either cut or went on speaking after the last sound."""
    played_at = time.time()

    def settled(events: list[dict[str, Any]]) -> bool:  # (who left need not be heard out)
        gone = {e["name"] for e in events if e["type"] == "participant_left"}
        left = {e["id"] for e in events if e["type"] == "participant_left"}
        started = sum(
            e["type"] == "speech_started" and e["participant"] not in left for e in events
        )
        finished = sum(
            e["type"] == "final_transcript" and not e.get("typed") and e["who"] not in gone
            for e in events
        )
        cut = any(
            e["type"] in ("interrupted", "turn_ended") and e.get("task_id") == task_id
            for e in events
        )
        went_on = any(
            e["type"] == "words_played" and e.get("task_id") == task_id and e["t"] > played_at + 0.5
            for e in events
        )
        return finished >= started and (cut or went_on)

    try:
        await log.wait_until(settled, timeout=45)
    except TimeoutError:
        return ", ".join(e["type"] for e in log.events[-12:] if e["type"] != "partial_transcript")
    cut = any(e["type"] == "interrupted" and e.get("task_id") == task_id for e in log.events)
    if cut or any(_taken(e) for e in log.events):
        with contextlib.suppress(TimeoutError):  # the answer to what was said, if any comes
            await log.wait_until(lambda ev: _answered(ev, task_id), timeout=20)
    return None


def _taken(event: dict[str, Any]) -> bool:
    """A person's utterance the room took as a turn (to be answered)."""
    return (
        event["type"] == "final_transcript"
        and bool(event["text"])
        and not event.get("typed")
        and not event.get("ignored")
    )


def _answered(events: list[dict[str, Any]], task_id: str) -> bool:
    return any(e["type"] == "turn_started" and e["task_id"] != task_id for e in events)


def _outcome(log: EventLog, task_id: str | None, stats: dict[str, Any]) -> Outcome:
    events = log.events
    mine = [e for e in events if task_id is None or e.get("task_id") == task_id]
    heard = [e["text"] for e in events if _taken(e)]
    outcome = Outcome(
        ducked=any(e["type"] == "ducked" for e in mine),
        interrupted=any(e["type"] == "interrupted" for e in mine)
        or (task_id is None and any(e["type"] == "bid_made" and e["granted"] for e in events)),
        answered=task_id is not None and _answered(events, task_id),
        utterances=len(heard),
        heard=heard,
        stats=stats,
        story=[_told(e) for e in events if e["type"] in _STORY],
    )
    return outcome


_STORY = (
    "speech_started",
    "speech_stopped",
    "final_transcript",
    "turn_started",
    "turn_ended",
    "ducked",
    "resumed",
    "interrupted",
    "participant_left",
)


def _told(event: dict[str, Any]) -> str:
    detail = event.get("who") or event.get("agent") or event.get("name") or ""
    extra = event.get("reason") or event.get("state") or event.get("text") or ""
    if event.get("ignored"):
        extra = f"{extra} [ignored: {event['ignored']}]"
    return f"{event['type']}({detail}{': ' + str(extra) if extra else ''})"
