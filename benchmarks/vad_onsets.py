"""VAD onset/offset delay against the speech fixtures' labels, and false onsets on noise.

Usage: python benchmarks/vad_onsets.py
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.fixtures import labelled_speech, noise
from media.pcm import IN_FRAME
from media.vad import SpeechStarted, SpeechStopped, VadSegmenter


def events_of(pcm: np.ndarray) -> list[object]:
    segmenter = VadSegmenter()
    padded = np.concatenate([pcm, np.zeros(16000, np.int16)])
    out: list[object] = []
    for start in range(0, len(padded) - IN_FRAME + 1, IN_FRAME):
        out += segmenter.push(padded[start : start + IN_FRAME], (start + IN_FRAME) / 16000)
    return out


def main() -> None:
    onsets, offsets = [], []
    for clip in labelled_speech():
        events = events_of(clip.pcm)
        started = next(e for e in events if isinstance(e, SpeechStarted))
        stopped = next(e for e in events if isinstance(e, SpeechStopped))
        onsets.append((started.at - clip.onset) * 1000)
        offsets.append((stopped.at - clip.offset) * 1000)
        print(f"{clip.name}: onset +{onsets[-1]:.0f} ms, offset +{offsets[-1]:.0f} ms")
    print(f"onset delay: median {np.median(onsets):.0f} ms, worst {max(onsets):.0f} ms")
    print(f"offset delay (includes the 500 ms hangover): median {np.median(offsets):.0f} ms")
    kinds = ["white", "loud-white", "pink", "hum", "clicks", "fixture-background"]
    false = {kind: len(events_of(noise(kind, 10.0))) for kind in kinds}
    print(f"false onsets on 10 s of noise: {false} (total {sum(false.values())})")


if __name__ == "__main__":
    main()
