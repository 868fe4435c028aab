"""Outbound stage 4: the room's mix to every participant, encoded once per distinct mix.

Everyone hears the same mix except a person who is talking: they hear it without their own
voice. So a tick has one lane for everyone and one more per person heard in it; each lane is
encoded once (``OpusLane``) and its packet handed to every WebRTC participant on it, and
its PCM to every WebSocket participant on it. A person keeps their own lane for ``HOLD``
after their last sound, so they do not hop between encoders on every pause for breath.
A tap (a recording) gets everyone's lane every tick, heard by anyone or not, from the same
encoder as the listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from media.mixer import MixFrame
from media.opus import OpusLane, OpusPacket
from media.outbound import PacketTrack, PcmTrack
from media.pcm import Pcm

HOLD = 50  # ticks (1 s) a person stays on their own lane after they were last heard

Lane = str | None  # None: everyone's mix; a person's key: the mix without them
Tap = Callable[[OpusPacket, int], None]  # everyone's packet of a tick, and the tick


@dataclass
class _Seat:
    track: PacketTrack | PcmTrack
    person: str | None  # the key of this participant's own voice in the mix, if any
    own_until: int = -1  # the last tick on which they hear their own lane


class Fanout:
    def __init__(self, lane_factory: Callable[[], OpusLane] = OpusLane) -> None:
        self._seats: dict[str, _Seat] = {}
        self._lanes: dict[Lane, OpusLane] = {}
        self._lane_factory = lane_factory
        self._taps: dict[str, Tap] = {}
        self.encodes = 0  # lane encodes so far (once per distinct mix per tick)

    def add(self, key: str, track: PacketTrack | PcmTrack, person: str | None = None) -> None:
        self._seats[key] = _Seat(track, person)

    def remove(self, key: str) -> None:
        self._seats.pop(key, None)

    def tap(self, key: str, sink: Tap) -> None:
        self._taps[key] = sink

    def untap(self, key: str) -> None:
        self._taps.pop(key, None)

    def send(self, frame: MixFrame, tick: int) -> None:
        """One tick of the mix to every participant."""
        pcms: dict[Lane, Pcm] = {}
        packets: dict[Lane, OpusPacket | None] = {}
        for seat in self._seats.values():
            lane = self._lane_of(seat, frame, tick)
            if lane not in pcms:
                pcms[lane] = frame.everyone() if lane is None else frame.without(lane)
            if isinstance(seat.track, PcmTrack):
                seat.track.push(pcms[lane])
                continue
            if lane not in packets:
                packets[lane] = self._encode(lane, pcms[lane], tick)
            if (packet := packets[lane]) is not None:
                seat.track.push(packet)
        if self._taps:
            if None not in packets:
                packets[None] = self._encode(None, frame.everyone(), tick)
            if (everyone := packets[None]) is not None:
                for sink in list(self._taps.values()):
                    sink(everyone, tick)
        for idle in [lane for lane in self._lanes if lane not in packets]:
            del self._lanes[idle]  # nobody heard this mix this tick

    def pacing(self) -> np.ndarray:
        """Seconds between consecutive sends, over every participant's recent frames."""
        parts = [seat.track.intervals() for seat in self._seats.values()]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _lane_of(self, seat: _Seat, frame: MixFrame, tick: int) -> Lane:
        if seat.person is None:
            return None
        if seat.person in frame.people:
            seat.own_until = tick + HOLD
        return seat.person if tick <= seat.own_until else None

    def _encode(self, lane: Lane, pcm: Pcm, tick: int) -> OpusPacket | None:
        encoder = self._lanes.get(lane)
        if encoder is None:
            encoder = self._lanes[lane] = self._lane_factory()
        self.encodes += 1
        return encoder.encode(pcm, tick)
