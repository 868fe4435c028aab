"""What every room of a server shares: agents, the delivery map, engines, limits and where
recordings go."""

from __future__ import annotations

from dataclasses import dataclass

from agents.delivery import Deliveries
from agents.service import AgentDirectory
from media.metronome import Metronome
from media.stt import SpeechToText
from media.tts import TextToSpeech
from media.vad import VadConfig
from store.recordings import RecordingStore


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
    recordings: RecordingStore | None = None  # None: rooms cannot be recorded
    store_seconds: float = 2.0  # a recording's audio is stored this often
    public_url: str = ""  # the server's base URL, for links given out (a turn's audio)
