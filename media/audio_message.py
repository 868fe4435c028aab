"""Speech sent as a file (an A2A message's audio part): decoded, cut into utterances by the
same voice detector as a room, and recognized by the same recognizer.

Any container and codec FFmpeg reads (WAV, Ogg/Opus, WebM, MP3, M4A, FLAC) is resampled to
16 kHz mono. What cannot be decoded, is empty, is too long or holds no speech is refused with
the reason (``AudioRejected``), so the caller can say which part and why.
"""

from __future__ import annotations

import io

import av
import numpy as np

from media.pcm import IN_FRAME, IN_RATE, Pcm
from media.stt import SpeechToText
from media.vad import SpeechStopped, VadConfig, VadSegmenter

AUDIO_TYPES = (
    "audio/wav",
    "audio/x-wav",
    "audio/ogg",
    "audio/opus",
    "audio/webm",
    "audio/mpeg",
    "audio/mp4",
    "audio/flac",
)
MAX_SECONDS = 60.0


class AudioRejected(Exception):
    """The audio cannot be heard; ``str(error)`` says why."""


def decode_speech(data: bytes, max_seconds: float = MAX_SECONDS) -> Pcm:
    """16 kHz mono int16 PCM of the audio file ``data``."""
    if not data:
        raise AudioRejected("the audio is empty")
    chunks: list[Pcm] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise AudioRejected("the file has no audio stream")
            resampler = av.AudioResampler("s16", "mono", IN_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1).astype(np.int16)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > max_seconds * IN_RATE:
                    raise AudioRejected(f"the audio is longer than {max_seconds:.0f} s")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
    except av.FFmpegError as error:
        raise AudioRejected(
            f"the audio could not be decoded ({error.strerror or error})"
        ) from error
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise AudioRejected("the audio holds no samples")
    return np.concatenate(chunks)


def utterances(pcm: Pcm, config: VadConfig) -> list[Pcm]:
    """The utterances the room's voice detector finds in ``pcm`` (silence and noise left out)."""
    segmenter = VadSegmenter(config)
    found: list[Pcm] = []
    frames = len(pcm) // IN_FRAME
    padded = np.concatenate([pcm[: frames * IN_FRAME], np.zeros(IN_FRAME * 100, np.int16)])
    for index in range(len(padded) // IN_FRAME):
        t = (index + 1) * IN_FRAME / IN_RATE
        frame = padded[index * IN_FRAME : (index + 1) * IN_FRAME]
        found += [e.audio for e in segmenter.push(frame, t) if isinstance(e, SpeechStopped)]
    found += [
        e.audio for e in segmenter.flush(len(padded) / IN_RATE) if isinstance(e, SpeechStopped)
    ]
    return found


async def transcribe(stt: SpeechToText, pcm: Pcm, config: VadConfig) -> str:
    """What was said in ``pcm``: each utterance recognized in turn."""
    said = []
    for utterance in utterances(pcm, config):
        recognizer = await stt.recognizer()
        await recognizer.feed(utterance)
        if text := (await recognizer.finish()).strip():
            said.append(text)
    if not said:
        raise AudioRejected("no speech was heard in the audio")
    return " ".join(said)
