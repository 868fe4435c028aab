"""The end-of-turn model's features: Whisper's log-mel recipe, checked against the recipe
written out plainly (every frame transformed, the filters as one dense product)."""

from __future__ import annotations

import numpy as np
import pytest

from media.turn_model import log_mel, mel_filters


def plain_log_mel(audio: np.ndarray) -> np.ndarray:
    x = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
    padded = np.pad(x, 200, mode="reflect")
    frames = np.stack([padded[i * 160 : i * 160 + 400] for i in range(801)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    mel = np.log10(np.maximum(power[:-1] @ mel_filters().T, 1e-10)).T
    mel = np.maximum(mel, mel.max() - 8.0)
    return (mel + 4.0) / 4.0


@pytest.mark.parametrize("lead", [0, 199, 200, 201, 360, 361, 1000, 96000, 127999, 128000])
def test_features_of_any_utterance_length_follow_the_recipe(lead: int) -> None:
    """A short utterance is zeros first (the frames inside them are computed once): the same
    numbers as every frame computed, at each boundary of the shortcut."""
    rng = np.random.default_rng(lead)
    audio = np.zeros(128000)
    audio[lead:] = rng.standard_normal(128000 - lead) * 0.1
    features = log_mel(audio)
    assert features.shape == (80, 800) and features.dtype == np.float32
    assert np.abs(features - plain_log_mel(audio)).max() < 1e-5


def test_the_filters_are_80_slaney_bands_over_the_fft_bins() -> None:
    filters = mel_filters()
    assert filters.shape == (80, 201) and (filters >= 0).all()
    peaks = filters.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all(), "bands rise in frequency"
    widths = np.count_nonzero(filters, axis=1)
    assert widths[-1] > widths[0], "wider above 1 kHz (logarithmic there)"


def test_features_need_exactly_eight_seconds() -> None:
    with pytest.raises(ValueError):
        log_mel(np.zeros(16000))
