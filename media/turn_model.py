"""End of turn from the voice: does a person who paused sound finished?

Smart Turn v3.2 (Daily, BSD 2-Clause) judges the last 8 s of an utterance from its waveform
(prosody, and a phrase that sounds complete) and answers a probability that the speaker is
done. Its ONNX weights ship inside the ``pipecat-ai`` wheel; ``make setup`` copies them, with
their licence, out of the wheel into ``<venv>/share/podium/`` (``tools/install_turn_weights.py``):
nothing of pipecat is installed or imported, and nothing is downloaded at run time.

The features are Whisper's log-mel spectrogram (80 Slaney mel bands, 25 ms Hann windows
every 10 ms, log10 clamped 8 decades under its peak, scaled to about [-1, 1]), written here
with numpy. One judgment costs a few tens of ms of one core; it runs in a worker thread
(onnxruntime releases the GIL), once or twice per pause, never on the 20 ms path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

from media.pcm import IN_RATE, Pcm

log = logging.getLogger(__name__)

WEIGHTS = "smart-turn-v3.2-cpu.onnx"
SECONDS = 8  # the model hears the last 8 s (zeros before a shorter utterance)
_SAMPLES = SECONDS * IN_RATE
_N_FFT = 400  # 25 ms
_HOP = 160  # 10 ms
_N_MELS = 80

Floats = npt.NDArray[np.float32]


def installed_weights() -> Path | None:
    """Where ``make setup`` put the weights (None: not installed)."""
    path = Path(sys.prefix) / "share" / "podium" / WEIGHTS
    return path if path.is_file() else None


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale: linear to 1 kHz (3 mels per 200 Hz), logarithmic above."""
    mel = hz * 3.0 / 200.0
    above = hz >= 1000.0
    mel[above] = 15.0 + np.log(hz[above] / 1000.0) * 27.0 / np.log(6.4)
    return mel


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    hz = mel * 200.0 / 3.0
    above = mel >= 15.0
    hz[above] = 1000.0 * np.exp((mel[above] - 15.0) * np.log(6.4) / 27.0)
    return hz


def mel_filters() -> npt.NDArray[np.float64]:
    """(80, 201): triangular filters evenly spaced in mels from 0 to 8 kHz, each scaled to
    unit area (Slaney normalisation), over the FFT's bins."""
    edges = _mel_to_hz(np.linspace(0.0, _hz_to_mel(np.array([IN_RATE / 2.0]))[0], _N_MELS + 2))
    bins = np.linspace(0.0, IN_RATE / 2.0, _N_FFT // 2 + 1)
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - low) / (centre - low)
    falling = (high - bins[None, :]) / (high - centre)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return triangles * (2.0 / (high - low))


_FILTERS = mel_filters()
_WINDOW = np.hanning(_N_FFT + 1)[:-1]  # periodic
# The filters are sparse (each spans a few neighbouring bins), so the bands are summed from
# the bins they cover rather than multiplied as a dense matrix: a BLAS product of this size
# runs on every core and leaves OpenBLAS's threads spinning for ~100 ms of CPU afterwards.
_BAND_BINS = [np.flatnonzero(row) for row in _FILTERS]
_BINS = np.concatenate(_BAND_BINS)
_WEIGHTS = np.concatenate([row[bins] for row, bins in zip(_FILTERS, _BAND_BINS, strict=True)])
_STARTS = np.cumsum([0] + [len(bins) for bins in _BAND_BINS[:-1]])


def _bands(power: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(frames, 201) power spectra -> (80, frames) mel band energies, without BLAS."""
    weighted = power[:, _BINS] * _WEIGHTS
    return np.add.reduceat(weighted, _STARTS, axis=1).T


def log_mel(audio: npt.NDArray[np.float64]) -> Floats:
    """Whisper's features of 8 s of 16 kHz audio in [-1, 1]: (80, 800) float32."""
    if len(audio) != _SAMPLES:
        raise ValueError(f"the model hears exactly {_SAMPLES} samples, got {len(audio)}")
    x = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)  # zero mean, unit variance
    padded = np.pad(x, _N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[:-1:_HOP]  # (800, 400)
    # A shorter utterance is zeros first (constant once normalized): the frames that lie
    # wholly in them are all alike, so one of them stands for all (the same numbers, a
    # quarter of the work for a 2 s utterance).
    lead = int(np.argmax(audio != 0)) if audio.any() else len(audio)
    alike = min(len(frames), max(0, (lead - _N_FFT // 2) // _HOP + 1))
    first = alike - 1 if alike else 0  # one frame for all that are alike
    power = np.abs(np.fft.rfft(frames[first:] * _WINDOW, axis=-1)) ** 2
    bands = np.log10(np.maximum(_bands(power), 1e-10))  # (80, frames - first)
    mel = np.concatenate([np.repeat(bands[:, :1], first, axis=1), bands], axis=1)
    mel = np.maximum(mel, mel.max() - 8.0)
    features: Floats = ((mel + 4.0) / 4.0).astype(np.float32)
    return features


def last_seconds(pcm: Pcm) -> npt.NDArray[np.float64]:
    """The utterance's last 8 s as floats in [-1, 1], zeros before a shorter one."""
    audio = pcm[-_SAMPLES:].astype(np.float64) / 32768.0
    return np.pad(audio, (_SAMPLES - len(audio), 0))


class TurnModel:
    """Smart Turn v3.2 on onnxruntime (one thread per judgment)."""

    def __init__(self, weights: Path) -> None:
        import onnxruntime as ort  # loaded only where the model is used

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(weights), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def finished(self, pcm: Pcm) -> float:
        """Blocking (run it in a thread): the probability that the person whose utterance so
        far is ``pcm`` (16 kHz mono, the pause included) has finished their turn."""
        features = log_mel(last_seconds(pcm))[None]
        output = self._session.run(None, {self._input: features})[0]
        return float(np.asarray(output).reshape(-1)[0])


_JUDGES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="end-of-turn")  # one per core


async def judge(model: TurnModel, pcm: Pcm) -> float:
    """``model.finished(pcm)`` in a judging thread (apart from the speech threads)."""
    return await asyncio.get_running_loop().run_in_executor(_JUDGES, model.finished, pcm)


@functools.cache
def load(weights: Path | None) -> TurnModel | None:
    """The model from ``weights`` (default: the installed ones), loaded once per process;
    None, said once, when there are none: ends of turn then rest on words and silence."""
    path = weights or installed_weights()
    if path is None:
        log.warning(
            "no end-of-turn model (%s): pauses are judged by words and silence alone; "
            "`make setup` installs it",
            WEIGHTS,
        )
        return None
    return TurnModel(path)
