"""One encoding per distinct mix: listeners share packets, a talking person hears the rest."""

from __future__ import annotations

import av
import numpy as np

from media.fanout import HOLD, Fanout
from media.live import LiveVoice
from media.mixer import Mixer, MixFrame
from media.opus import SILENT_RUN, OpusLane
from media.outbound import PacketTrack, PcmTrack
from media.pcm import OUT_FRAME, OUT_RATE


def tone(frames: int, level: int = 8000, hz: float = 220) -> np.ndarray:
    t = np.arange(OUT_FRAME * frames) / OUT_RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def decode(packets: list[av.Packet]) -> np.ndarray:
    codec = av.CodecContext.create("libopus", "r")
    codec.sample_rate, codec.layout, codec.format = OUT_RATE, "mono", "s16"
    out = [f.to_ndarray().reshape(-1) for p in packets for f in codec.decode(av.Packet(bytes(p)))]
    return np.concatenate(out)


def test_a_lane_makes_one_decodable_packet_per_frame_on_the_room_timeline() -> None:
    lane = OpusLane()
    pcm = tone(10)
    packets = [lane.encode(pcm[i * OUT_FRAME : (i + 1) * OUT_FRAME], 100 + i) for i in range(10)]
    assert all(p is not None for p in packets)
    assert [p.pts for p in packets if p] == [(100 + i) * OUT_FRAME for i in range(10)]
    decoded = decode([p for p in packets if p])
    assert len(decoded) == 10 * OUT_FRAME and np.abs(decoded[OUT_FRAME:]).max() > 4000


def test_a_long_silence_is_encoded_only_a_few_times() -> None:
    lane = OpusLane()
    silence = np.zeros(OUT_FRAME, np.int16)
    packets = [lane.encode(silence, i) for i in range(50)]
    assert lane.encoded == SILENT_RUN and all(p is not None for p in packets)
    assert not np.abs(decode([p for p in packets if p])).max() > 10
    assert lane.encode(tone(1), 50) is not None and lane.encoded == SILENT_RUN + 1


def frame_with(people: dict[str, np.ndarray], agent: np.ndarray) -> MixFrame:
    total = agent.astype(np.int32)
    for pcm in people.values():
        total = total + pcm
    return MixFrame(total, people)


async def test_listeners_share_one_encoding_and_a_talking_speaker_gets_their_own() -> None:
    fanout = Fanout()
    listeners = [PacketTrack() for _ in range(20)]
    for index, track in enumerate(listeners):
        fanout.add(f"l{index}", track)
    speaker, socket = PacketTrack(), PcmTrack()
    fanout.add("s", speaker, person="s")
    fanout.add("w", socket, person="w")
    agent, voice = tone(1, 6000, 300), tone(1, 9000, 700)
    fanout.send(frame_with({}, agent), 0)
    assert fanout.encodes == 1, "nobody talking: one mix for all twenty-two"
    shared = [await track.recv() for track in [*listeners, speaker]]
    assert all(p is shared[0] for p in shared)
    fanout.send(frame_with({"s": voice}, agent), 1)
    assert fanout.encodes == 3, "the listeners' mix, and the mix without the speaker"
    heard = await speaker.recv()
    assert heard is not await listeners[0].recv()
    socket_pcm = (await socket.recv()).to_ndarray().reshape(-1)
    socket_pcm = (await socket.recv()).to_ndarray().reshape(-1)
    assert np.array_equal(socket_pcm, np.clip(agent.astype(np.int32) + voice, -32768, 32767))


async def test_a_speaker_keeps_their_lane_through_a_pause_then_rejoins_the_shared_one() -> None:
    fanout = Fanout()
    listener, speaker = PacketTrack(depth=1), PacketTrack(depth=1)
    fanout.add("l", listener)
    fanout.add("s", speaker, person="s")
    fanout.send(frame_with({"s": tone(1)}, tone(1, 100)), 0)
    for tick in range(1, HOLD + 1):  # a pause for breath: still on their own lane
        fanout.send(frame_with({}, tone(1, 100)), tick)
        assert (await speaker.recv()) is not (await listener.recv())
    fanout.send(frame_with({}, tone(1, 100)), HOLD + 1)
    assert (await speaker.recv()) is (await listener.recv())


async def test_a_speaker_never_hears_their_own_voice_in_the_mix() -> None:
    mixer, fanout = Mixer(), Fanout()
    own = LiveVoice()
    frame = av.AudioFrame.from_ndarray(tone(5, 9000, 500).reshape(1, -1), "s16", "mono")
    frame.sample_rate = OUT_RATE
    own.push(frame)
    mixer.add_person("s", own)
    speaker, listener = PcmTrack(depth=8), PcmTrack(depth=8)
    fanout.add("s", speaker, person="s")
    fanout.add("l", listener)
    for tick in range(5):
        fanout.send(mixer.tick()[0], tick)
    heard_by_speaker = [(await speaker.recv()).to_ndarray() for _ in range(5)]
    heard_by_listener = [(await listener.recv()).to_ndarray() for _ in range(5)]
    assert all(not pcm.any() for pcm in heard_by_speaker)
    assert sum(int(np.abs(pcm).max()) > 5000 for pcm in heard_by_listener) >= 3
