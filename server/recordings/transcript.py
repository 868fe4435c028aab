"""A recording's transcript from the room events stored with it: turns (an agent's words
with the times they were heard, a person's words from when they began to speak),
interruptions and bids, as JSON and as WebVTT captions. Pure: events in, documents out.

Times are seconds into the recording. A word is heard from its ``words_played`` event until
the next word of its turn (the turn's last word until the turn ends, at most ``WORD_MAX``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from store.recordings import Recording, StoredEvent

Json = dict[str, Any]
WORD_MAX = 0.8  # seconds a last word is taken to last when nothing ends it sooner
PHRASE_WORDS = 12  # a caption cue holds at most this many words…
PHRASE_END = re.compile(r"[.?!;:]$")  # …and ends after a word ending a clause


def transcript(recording: Recording, events: Sequence[StoredEvent]) -> Json:
    turns: list[Json] = []
    open_turns: dict[str, Json] = {}  # task id → its turn
    speaking: dict[str, float] = {}  # person → when their speech began
    interruptions: list[Json] = []
    bids: list[Json] = []
    for event in events:
        body, t = event.body, round(event.t, 3)
        match body.get("type"):
            case "turn_started":
                turn = open_turns[body["task_id"]] = _agent_turn(body, t)
                turns.append(turn)
            case "words_played":
                playing = open_turns.get(body["task_id"])
                if playing is None:  # a turn that began before the recording
                    playing = open_turns[body["task_id"]] = _agent_turn(body, t)
                    turns.append(playing)
                _add_words(playing, body["text"], t)
            case "turn_ended":
                if (ended := open_turns.pop(body["task_id"], None)) is not None:
                    ended["end"], ended["state"] = t, body["state"]
            case "speech_started" if body.get("accepted", True):
                speaking[body["who"]] = t
            case "final_transcript" if body.get("text") and not body.get("ignored"):
                start = speaking.pop(body["who"], t)
                turns.append(
                    {
                        "speaker": body["who"],
                        "kind": "typed" if body.get("typed") else "person",
                        "start": start,
                        "end": t,
                        "text": body["text"],
                    }
                )
            case "interrupted":
                interruptions.append({"t": t, **_without(body, "type", "room", "t")})
            case "bid_made":
                bids.append({"t": t, **_without(body, "type", "room", "t")})
    end = round(recording.duration, 3)
    for turn in turns:
        if turn["kind"] == "agent":
            turn["text"] = turn["text"].strip()
            _time_words(turn, end)
    turns.sort(key=lambda turn: turn["start"])
    return {
        "recording": recording.id,
        "room": recording.room_id,
        "topic": recording.topic,
        "agents": recording.agents,
        "duration": end,
        "turns": turns,
        "interruptions": interruptions,
        "bids": bids,
    }


def _agent_turn(body: Json, t: float) -> Json:
    return {
        "speaker": body["agent"],
        "kind": "agent",
        "task_id": body["task_id"],
        "start": t,
        "end": None,
        "text": "",
        "state": None,
        "words": [],
    }


def _add_words(turn: Json, piece: str, t: float) -> None:
    """A played piece of text: new words start at ``t``; a piece that does not begin with a
    space goes on the word before (punctuation, the rest of a word)."""
    tokens = piece.split()
    words, text = turn["words"], turn["text"]
    if tokens and words and text and not text[-1].isspace() and not piece[0].isspace():
        words[-1]["word"] += tokens.pop(0)
    words.extend({"word": token, "start": t, "end": None} for token in tokens)
    turn["text"] = text + piece


def _time_words(turn: Json, recording_end: float) -> None:
    words = turn["words"]
    turn_end = turn["end"] if turn["end"] is not None else recording_end
    for word, after in zip(words, [*words[1:], None], strict=True):
        until = after["start"] if after is not None else min(turn_end, word["start"] + WORD_MAX)
        word["end"] = round(max(until, word["start"]), 3)
    if turn["end"] is None:  # still speaking when the recording stopped
        turn["end"] = words[-1]["end"] if words else turn["start"]


def _without(body: Json, *keys: str) -> Json:
    return {k: v for k, v in body.items() if k not in keys}


def webvtt(document: Json) -> str:
    """WebVTT captions: a cue per phrase, the speaker as its voice span."""
    lines = ["WEBVTT", ""]
    number = 0
    for turn in document["turns"]:
        for start, end, text in _phrases(turn):
            number += 1
            lines += [str(number), f"{_stamp(start)} --> {_stamp(end)}"]
            lines += [f"<v {_escape(turn['speaker'])}>{_escape(text)}</v>", ""]
    return "\n".join(lines)


def _phrases(turn: Json) -> list[tuple[float, float, str]]:
    if turn["kind"] != "agent":
        end = max(turn["end"], turn["start"] + 0.5)
        return [(turn["start"], end, turn["text"])] if turn["text"] else []
    phrases: list[tuple[float, float, str]] = []
    current: list[Json] = []
    for word in turn["words"]:
        current.append(word)
        if len(current) >= PHRASE_WORDS or PHRASE_END.search(word["word"]):
            phrases.append(_phrase(current))
            current = []
    if current:
        phrases.append(_phrase(current))
    return phrases


def _phrase(words: list[Json]) -> tuple[float, float, str]:
    start, end = words[0]["start"], words[-1]["end"]
    return start, max(end, start + 0.2), " ".join(w["word"] for w in words)


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
