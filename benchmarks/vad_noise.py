"""The voice detector on the noise corpus, per class: false onsets per minute of the noise
alone, missed onsets and onset delay of speech laid over it (20, 10 and 0 dB SNR: noise up
to the speech's own level), and the detector's CPU per second of audio.

Usage: python benchmarks/vad_noise.py [--seeds 3] [--lead 3]
Each seed is another instance of every class (``clients/noise_corpus.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clients.fixtures import labelled_speech
from clients.noise_corpus import CLASSES, SNRS_DB
from clients.vad_scores import score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--lead", type=float, default=3.0, help="seconds of noise alone")
    args = parser.parse_args()
    clips = labelled_speech()
    seeds = range(args.seeds)
    started = time.process_time()
    audio = 0.0
    total_false = 0
    total_minutes = 0.0
    for kind in CLASSES:
        result = score(kind, clips, SNRS_DB, lead=args.lead, seeds=seeds)
        print(result.line(), flush=True)
        total_false += result.false_onsets
        total_minutes += result.noise_seconds / 60
        audio += (
            sum(args.lead + len(c.pcm) / 16000 + 1.0 for c in clips) * len(SNRS_DB) * len(seeds)
        )
    cpu = time.process_time() - started
    print(f"all classes: {total_false / total_minutes:.1f} false onsets/min")
    print(f"detector CPU: {cpu / audio * 100:.2f} % of a core per speaking participant")


if __name__ == "__main__":
    main()
