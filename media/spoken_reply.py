"""An answer's text spoken as a file, for A2A clients that accept audio: the agent's voice
(the room's TTS engine), as Ogg/Opus (the default) or WAV."""

from __future__ import annotations

import io
import wave

import numpy as np

from media.ogg_opus import OggOpusWriter
from media.opus import OpusLane
from media.pcm import OUT_FRAME, OUT_RATE, Pcm
from media.tts import TextToSpeech
from media.voice import at_48k

OGG, WAV = "audio/ogg", "audio/wav"


def output_type(accepted: list[str]) -> str | None:
    """The audio type to answer with, given a request's ``acceptedOutputModes`` (None: no
    audio was asked for)."""
    modes = [m.lower().split(";")[0].strip() for m in accepted]
    if any(m in (OGG, "audio/opus", "audio/*") for m in modes):
        return OGG
    if any(m in (WAV, "audio/x-wav") for m in modes):
        return WAV
    return None


def wav_bytes(pcm: Pcm, rate: int) -> bytes:
    """Mono 16-bit PCM as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(pcm.astype("<i2").tobytes())
    return out.getvalue()


def spoken(tts: TextToSpeech, text: str, voice: str, media_type: str = OGG) -> bytes:
    """Blocking (run it in a thread): ``text`` in ``voice`` as a ``media_type`` file."""
    speech = at_48k(tts.synthesize(text, voice))
    pcm = speech.pcm
    if media_type == WAV:
        return wav_bytes(pcm, OUT_RATE)
    frames = -(-len(pcm) // OUT_FRAME) + 1  # whole frames, and one to let the encoder finish
    padded = np.zeros(frames * OUT_FRAME, np.int16)
    padded[: len(pcm)] = pcm
    lane, writer = OpusLane(), OggOpusWriter()
    for index in range(frames):
        packet = lane.encode(padded[index * OUT_FRAME : (index + 1) * OUT_FRAME], index)
        if packet is not None:
            writer.add(packet)
    return writer.take() + writer.close()
