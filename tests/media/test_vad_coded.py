"""The end of a turn does not depend on the audio having crossed a WebRTC call.

A browser or aiortc peer encodes the microphone with Opus (stereo, 48 kHz); the room decodes
it on the loop and cuts it to 16 kHz. Coding changes the quiet tail of a sentence a little,
and the falling-voice cue that ends a trailing-off sentence sooner is measured on that tail:
the same utterance, with the same words so far, must end after the same silence either way.
"""

from __future__ import annotations

import asyncio

import av
import numpy as np
import pytest
from aiortc.codecs.opus import OpusEncoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from clients.fixtures import Labelled, labelled_speech
from media.decoding import LoopDecoder
from media.inbound import FrameSlicer
from media.pcm import IN_FRAME, Pcm
from media.vad import SpeechStopped, VadSegmenter

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


def over_webrtc(pcm: Pcm) -> list[Pcm]:
    """``pcm`` (16 kHz) as a WebRTC peer sends it and the room hears it: 16 kHz 20 ms frames."""
    mono = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), "s16", "mono")
    mono.sample_rate = 16000
    stereo = av.AudioResampler(format="s16", layout="stereo", rate=48000)  # a microphone
    wide = np.concatenate([f.to_ndarray().reshape(-1) for f in stereo.resample(mono)])
    encoder, frames = OpusEncoder(), asyncio.Queue[object]()
    decoder, slicer, heard = LoopDecoder(frames), FrameSlicer(), []
    for index in range(len(wide) // 1920):
        frame = av.AudioFrame.from_ndarray(
            wide[index * 1920 : (index + 1) * 1920].reshape(1, -1), "s16", "stereo"
        )
        frame.sample_rate, frame.pts = 48000, index * 960
        payloads, timestamp = encoder.encode(frame)
        for payload in payloads:
            decoder.put((OPUS, JitterFrame(payload, timestamp)))
    while not frames.empty():
        heard += slicer.push(frames.get_nowait())  # type: ignore[arg-type]
    return heard


def end_silence(frames: list[Pcm], words: str) -> float:
    """The silence after which the utterance ended, the recognizer having heard ``words``."""
    segmenter, t = VadSegmenter(), 0.0
    for frame in frames:
        t += IN_FRAME / 16000
        if segmenter.speaking and segmenter.silent > 0:
            segmenter.hear(words)
        for event in segmenter.push(frame, t):
            if isinstance(event, SpeechStopped):
                return event.silence
    raise AssertionError("the utterance never ended")


def frames_of(pcm: Pcm) -> list[Pcm]:
    return [pcm[i : i + IN_FRAME] for i in range(0, len(pcm) - IN_FRAME + 1, IN_FRAME)]


@pytest.mark.parametrize("clip", labelled_speech(), ids=lambda c: c.name[-4:])
@pytest.mark.parametrize("last", ["for", "man"], ids=["trails off", "finished"])
def test_a_turn_ends_after_the_same_silence_whether_or_not_it_crossed_a_call(
    clip: Labelled, last: str
) -> None:
    padded = np.concatenate([clip.pcm, np.zeros(16000, np.int16)])
    words = f"{clip.words.rsplit(' ', 1)[0]} {last}"
    direct = end_silence(frames_of(padded), words)
    coded = end_silence(over_webrtc(padded), words)
    assert coded == pytest.approx(direct, abs=0.03), (direct, coded)
