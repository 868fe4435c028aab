"""One recording in progress: the room's mix as Ogg/Opus and the events of its transcript,
stored every ``store_seconds`` until it stops.

The room hands it everyone's Opus packet every tick (``packet``, from the listeners' encoder)
and every event (``event``); both are cheap and synchronous, on the room's loop. Time the
room's clock skipped (a loop stalled longer than the metronome catches up) is filled with
silence, so a word's time in the recording is when it was heard (``frames_to_fill``). Its one
background task (owned by the room) stores what came since the last store; a store that
fails stops the recording (the room says so; the debate goes on).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from media.ogg_opus import OggOpusWriter
from media.opus import OpusPacket
from media.pcm import FRAME_SECONDS
from store.recordings import Chunk, Recording, RecordingStore, StoredEvent

log = logging.getLogger(__name__)
Json = dict[str, Any]
STEADY = 0.01  # seconds between packets at their pace (a catch-up burst comes faster)

# The events a transcript is built from (``server.recordings.transcript``).
KEPT = frozenset(
    {
        "turn_started",
        "words_played",
        "turn_ended",
        "speech_started",
        "final_transcript",
        "interrupted",
        "bid_made",
    }
)


class Recorder:
    def __init__(
        self,
        recording: Recording,
        store: RecordingStore,
        store_seconds: float,
        stopped: Callable[[Recorder, str, str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recording = recording
        self._store = store
        self._every = store_seconds
        self._stopped = stopped  # (self, state, reason): the room detaches it and says so
        self._writer = OggOpusWriter()
        self._events: list[StoredEvent] = []
        self._event_seq = 0
        self._chunk_seq = 0
        self._offset = 0
        self._clock = clock
        self._zero: float | None = None  # the clock when the first packet came
        self._arrivals = (0.0, 0.0)  # when the two packets before came
        self._spans: dict[str, list[float]] = {}  # task id → [first word heard, turn ended]
        self._stop = asyncio.Event()
        self._ending: tuple[str, str] = ("finished", "stopped")

    @property
    def id(self) -> str:
        return self.recording.id

    def packet(self, packet: OpusPacket, _tick: int) -> None:
        now = self._clock()
        if self._zero is None:
            self._zero = now
        before, last = self._arrivals
        self._arrivals = (last, now)
        self._writer.silence(
            frames_to_fill(now - self._zero, self._writer.ticks, now - last, last - before)
        )
        self._writer.add(packet)

    def event(self, data: Json) -> None:
        if data.get("type") in KEPT:
            self._event_seq += 1
            # When it was played out, on the clock the recording keeps to (silence fills what
            # the room's clock skips): the event's own time, not the mix's, which a short
            # stall holds back until the burst that catches up.
            playing = 0.0 if self._zero is None else max(0.0, self._clock() - self._zero)
            self._events.append(StoredEvent(self._event_seq, playing, data))
            if data["type"] == "words_played" and data["task_id"] not in self._spans:
                self._spans[data["task_id"]] = [playing, playing]
            elif data["type"] == "turn_ended" and (span := self._spans.get(data["task_id"])):
                span[1] = playing

    def span(self, task_id: str) -> tuple[float, float] | None:
        """Seconds into the recording from a turn's first word heard to its end (None: not
        heard here, or not ended yet)."""
        span = self._spans.pop(task_id, None)
        return None if span is None or span[1] <= span[0] else (span[0], span[1])

    def stop(self, reason: str) -> None:
        """Ends the recording; its task stores the rest and finishes it."""
        self._ending = ("finished", reason)
        self._stop.set()

    async def run(self) -> None:
        """Stores every ``store_seconds`` until stopped, then the rest."""
        state, reason = "failed", "the recording stopped unexpectedly"
        try:
            while not self._stop.is_set():
                try:
                    await asyncio.wait_for(self._stop.wait(), self._every)
                except TimeoutError:
                    pass
                if self._stop.is_set():
                    break
                if not await self._store_now(None):
                    state, reason = "deleted", "the recording was deleted"
                    return
            state, reason = self._ending
            await self._store_now((state, reason), last=True)
        except (SQLAlchemyError, OSError) as error:
            state, reason = "failed", f"the database refused the recording: {_one_line(error)}"
            log.warning("recording %s stopped: %s", self.id, reason)
        finally:
            self._stopped(self, state, reason)

    async def _store_now(self, ended: tuple[str, str] | None, last: bool = False) -> bool:
        data = self._writer.close() if last else self._writer.take()
        chunk = None
        if data:
            self._chunk_seq += 1
            chunk = Chunk(self._chunk_seq, self._offset, data)
            self._offset += len(data)
        events, self._events = self._events, []
        return await self._store.store(self.id, chunk, events, self._writer.seconds, ended)


def frames_to_fill(elapsed: float, written: int, gap: float, gap_before: float) -> int:
    """Silent frames a recording of ``written`` frames lacks ``elapsed`` seconds after it
    began: what it is behind the clock, once packets come at their pace again. After a short
    stall the room's clock sends the frames it owes in a burst (no gap in the audio); after
    a long one it skips them, and the recording would fall behind for good. Pure."""
    if not STEADY <= gap <= 1.5 * FRAME_SECONDS or gap_before < STEADY:
        return 0  # late (a burst may follow), or in a burst: the frames are coming
    behind = round(elapsed / FRAME_SECONDS) - written
    return behind if behind > 1 else 0


def _one_line(error: BaseException) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__
