"""VoiceChannel: what is heard is what is released — through pauses, fades and flushes."""

from __future__ import annotations

import numpy as np

from media.pcm import OUT_FRAME, OUT_RATE
from media.tts import EspeakTextToSpeech, Speech, WordTiming
from media.voice import VoiceChannel


def tone_speech(words: list[str], seconds_per_word: float = 0.2) -> tuple[Speech, str]:
    """A synthetic clip: one loud 0.2 s block per word, word starts at exact offsets."""
    text = " ".join(words)
    timings, offset = [], 0
    for index, word in enumerate(words):
        offset = text.index(word, offset) + len(word)
        timings.append(WordTiming(word, index * seconds_per_word, offset))
    samples = round(len(words) * seconds_per_word * OUT_RATE)
    pcm = (np.sin(np.arange(samples) * 0.05) * 10000).astype(np.int16)
    return Speech(pcm, OUT_RATE, tuple(timings)), text


def drain(channel: VoiceChannel) -> list[str]:
    pieces = []
    while not channel._played.empty():
        piece = channel._played.get_nowait()
        if piece is not None:
            pieces.append(piece)
    return pieces


def play(channel: VoiceChannel, seconds: float) -> list[np.ndarray | None]:
    return [channel.read() for _ in range(round(seconds / 0.02))]


def test_pause_holds_the_position_and_resume_continues_where_it_stopped() -> None:
    channel = VoiceChannel("mei")
    speech, text = tone_speech(["one", "two", "three", "four"])
    channel.enqueue(speech, text)
    play(channel, 0.3)
    assert "".join(drain(channel)) == "one two"
    channel.pause()
    assert all(frame is None for frame in play(channel, 1.0))
    assert drain(channel) == []
    position = channel.samples_played
    channel.resume()
    play(channel, 0.2)
    assert channel.samples_played == position + round(0.2 * OUT_RATE)
    assert "".join(drain(channel)) == " three"


def test_fade_trails_off_quietly_and_counts_no_more_words() -> None:
    channel = VoiceChannel("mei")
    speech, text = tone_speech(["one", "two", "three", "four", "five"])
    channel.enqueue(speech, text)
    play(channel, 0.1)
    assert "".join(drain(channel)) == "one"
    channel.fade(0.1)  # five frames
    frames = play(channel, 0.2)
    levels = [int(np.abs(f).max()) if f is not None else 0 for f in frames]
    assert levels[0] > levels[3] > 0
    assert levels[5:] == [0] * 5
    assert channel.drained
    assert drain(channel) == []  # played() has ended; nothing after the cut counts


def test_flush_drops_the_rest_and_ends_the_turn() -> None:
    channel = VoiceChannel("mei")
    speech, text = tone_speech(["one", "two", "three"])
    channel.enqueue(speech, text)
    play(channel, 0.02)
    channel.flush()
    assert channel.read() is None
    assert channel._played.get_nowait() == "one"
    assert channel._played.get_nowait() is None


def test_espeak_word_timings_drive_the_released_text() -> None:
    speech = EspeakTextToSpeech().synthesize("Tea is better than coffee.", "en-us")
    channel = VoiceChannel("mei")
    channel.enqueue(speech, "Tea is better than coffee.")
    heard = []
    while (frame := channel.read()) is not None:
        assert len(frame) == OUT_FRAME
        heard += drain(channel)
    assert "".join(heard) == "Tea is better than coffee."
    assert len(heard) >= 4  # released word by word, not at once
