"""What every room of a server shares: agents, the delivery map, engines and limits."""

from __future__ import annotations

from dataclasses import dataclass

from agents.delivery import Deliveries
from agents.service import AgentDirectory
from media.metronome import Metronome
from media.stt import SpeechToText
from media.tts import TextToSpeech
from media.vad import VadConfig


@dataclass(frozen=True)
class RoomSetup:
    directory: AgentDirectory
    deliveries: Deliveries
    stt: SpeechToText
    tts: TextToSpeech
    vad: VadConfig
    jitter_packets: int
    max_speakers: int
    max_listeners: int
    metronome: Metronome  # every room's 20 ms clock
