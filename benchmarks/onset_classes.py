"""How soon the voice detector hears an utterance begin, by the class of its first sound:
breathy and unvoiced onsets (h-, s-, f-, sh-, th-), stops (p-, t-, k-), and vowels, spoken by
several eSpeak NG voices at two levels over a hiss (the read fixtures' labelled onsets are in
``vad_onsets.py``).

The onset is the first 10 ms in which the utterance's own signal (before any noise is added)
reaches 1 % of its peak: where a listener starts to hear the breath or the hiss of the
consonant. Reported per class: median and worst delay to the first reaction (a suspected onset,
``SpeechSuspected``, or ``SpeechStarted``: the room holds or ducks a speaking agent on either,
and a loopback client hears it one or two 20 ms frames later), and to ``SpeechStarted``.

    python benchmarks/onset_classes.py
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict

import av
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.noise_corpus import sound, to_pcm, voiced_level_dbfs
from media.pcm import IN_FRAME, IN_RATE, Pcm
from media.tts import EspeakTextToSpeech
from media.vad import SpeechStarted, SpeechSuspected, VadSegmenter

ONSETS = {
    "h-": ["had he married her", "how long will it take", "hello there"],
    "s-": ["so what do you think", "some people disagree", "sorry to cut in"],
    "sh-": ["shall we stop here", "she is wrong about that", "should they pay"],
    "f-": ["for one thing", "first of all", "fine but listen"],
    "th-": ["think about it", "thanks but no"],
    "stop": ["but that is wrong", "to be honest", "can i say something", "please wait"],
    "vowel": ["i disagree", "and another thing", "actually no", "only if they pay"],
}
VOICES = ("en-us", "en-us+f3", "en-gb+m3", "en-us+m7")
LEVELS = (-20.0, -32.0)  # the voice's level while voiced, dBFS
HISS = -50.0  # the hiss under it (and before it)


def to_16k(pcm: Pcm, rate: int) -> Pcm:
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), "s16", "mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler("s16", "mono", IN_RATE)
    out = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([f.to_ndarray().reshape(-1) for f in out])


def true_onset(pcm: Pcm) -> float:
    x = np.abs(pcm.astype(np.float64))
    blocks = x[: len(x) // 160 * 160].reshape(-1, 160).max(axis=1)
    first = int(np.argmax(blocks >= 0.01 * x.max()))
    return first * 160 / IN_RATE


def onset_delay(speech: Pcm, level: float, seed: int) -> tuple[float, float] | None:
    """ms from the true onset to the first reaction and to SpeechStarted, with 1 s of hiss
    before (None: missed)."""
    gain = 10 ** ((level - voiced_level_dbfs(speech)) / 20)
    voice = speech.astype(np.float64) / 32768 * gain
    lead = IN_RATE
    total = lead + len(voice) + IN_RATE // 2
    mix = sound("white", total / IN_RATE, HISS, seed=seed)[:total]
    mix[lead : lead + len(voice)] += voice
    pcm = to_pcm(mix)
    onset = (lead + true_onset(speech)) / IN_RATE
    segmenter = VadSegmenter()
    first: float | None = None
    for start in range(0, len(pcm) - IN_FRAME + 1, IN_FRAME):
        for event in segmenter.push(pcm[start : start + IN_FRAME], (start + IN_FRAME) / IN_RATE):
            if isinstance(event, SpeechSuspected) and event.at >= onset and first is None:
                first = (event.at - onset) * 1000
            if isinstance(event, SpeechStarted):
                started = (event.at - onset) * 1000
                return (started if first is None else first), started
    return None


def main() -> None:
    tts = EspeakTextToSpeech(175)
    delays: dict[str, list[float]] = defaultdict(list)
    starts: dict[str, list[float]] = defaultdict(list)
    missed: dict[str, int] = defaultdict(int)
    worst: dict[str, tuple[float, str]] = {}
    seed = 0
    for kind, texts in ONSETS.items():
        for text in texts:
            for voice in VOICES:
                speech = tts.synthesize(text, voice)
                pcm = to_16k(speech.pcm, speech.sample_rate)
                for level in LEVELS:
                    seed += 1
                    delay = onset_delay(pcm, level, seed)
                    if delay is None:
                        missed[kind] += 1
                        continue
                    delays[kind].append(delay[0])
                    starts[kind].append(delay[1])
                    if delay[0] > worst.get(kind, (-1e9, ""))[0]:
                        worst[kind] = (delay[0], f"{text!r} {voice} {level:g} dBFS")
    print(
        f"{'onset':8} {'n':>3} {'first reaction: median':>23} {'p95':>6} {'worst':>6}"
        f"  {'started: median':>16} {'worst':>6}  missed  worst case"
    )
    for kind, values in delays.items():
        v, s = np.array(values), np.array(starts[kind])
        print(
            f"{kind:8} {len(v):3d} {np.median(v):21.0f}ms {np.percentile(v, 95):5.0f}ms "
            f"{v.max():5.0f}ms  {np.median(s):14.0f}ms {s.max():5.0f}ms  {missed[kind]:6d}"
            f"  {worst[kind][1]}"
        )


if __name__ == "__main__":
    main()
