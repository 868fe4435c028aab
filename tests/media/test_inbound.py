"""The inbound jitter buffer that does not wait: each Opus packet goes on as it arrives."""

from __future__ import annotations

from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from media.inbound import ArrivalOrder


def packet(sequence: int) -> RtpPacket:
    """An RTP packet as aiortc's receiver hands it to a jitter buffer (payload depayloaded)."""
    rtp = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=960 * sequence)
    rtp._data = bytes([sequence % 256]) * 3  # type: ignore[attr-defined]
    return rtp


def test_each_packet_is_a_frame_as_soon_as_it_arrives() -> None:
    buffer = ArrivalOrder()
    for sequence in range(10, 15):
        pli, frame = buffer.add(packet(sequence))
        assert not pli and frame is not None
        assert frame.data == bytes([sequence]) * 3 and frame.timestamp == 960 * sequence


def test_aiortcs_buffer_holds_each_frame_until_the_next_packet() -> None:
    """Why ``ArrivalOrder`` exists: at depth 0 or 1, a frame waits for the next packet."""
    for depth in (0, 1):
        buffer = JitterBuffer(capacity=16, prefetch=depth)
        assert buffer.add(packet(10))[1] is None
        frame = buffer.add(packet(11))[1]
        assert frame is not None and frame.timestamp == 960 * 10


def test_a_late_or_repeated_packet_is_dropped_and_the_stream_goes_on() -> None:
    buffer = ArrivalOrder()
    assert buffer.add(packet(100))[1] is not None
    assert buffer.add(packet(102))[1] is not None  # 101 lost (or late): no wait for it
    assert buffer.add(packet(101))[1] is None, "older than the last one handed on"
    assert buffer.add(packet(102))[1] is None, "a repeat"
    assert buffer.add(packet(103))[1] is not None


def test_sequence_numbers_wrap_around() -> None:
    buffer = ArrivalOrder()
    for sequence in (65534, 65535, 0, 1):
        assert buffer.add(packet(sequence))[1] is not None, sequence
    assert buffer.add(packet(65535))[1] is None, "from before the wrap: late"


def test_a_sender_that_starts_its_numbers_anew_is_heard_again() -> None:
    """A jump far back (a renegotiated or restarted sender) is no late packet: the stream
    goes on from the new numbers instead of dropping everything until they catch up."""
    buffer = ArrivalOrder()
    assert buffer.add(packet(40000))[1] is not None
    assert buffer.add(packet(39990))[1] is None, "ten behind: late"
    assert buffer.add(packet(20000))[1] is not None, "far behind: a new start"
    assert buffer.add(packet(20001))[1] is not None
