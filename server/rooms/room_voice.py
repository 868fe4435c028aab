"""Outbound: the turns a room voices. This is the room's :class:`~agents.delivery.Delivery`.

turn text → ``Phraser`` → TTS (in threads) → ``VoiceChannel`` → the room's ``Mixer``; the text
is released word by word as it is played, so the turn's task keeps exactly what was heard.
``stop`` cuts a turn here (a barge-in, a bid, the room closing) and remembers why: the
executor reads ``stopped`` when the voice ends and ends the task ``canceled`` from it, so a
cut is one local call and its order against the voice's end does not matter.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from agents.delivery import DeliveryError, HeardAudio, TurnInfo
from agents.floor.floors import Floor
from agents.turn import CancelReason
from media.mixer import Mixer
from media.phrasing import Phraser
from media.tts import Speech, SynthesisError
from media.voice import VoiceChannel
from server.background import BackgroundTasks
from server.ops.telemetry import voice_turn
from server.rooms import events as ev
from server.rooms.event_hub import EventHub
from server.rooms.room_setup import RoomSetup
from server.rooms.stats import RoomStats
from server.rooms.turn_timing import TurnTiming

# A debater cut by another goes on at its level until the interrupter is heard, at most this
# long, then trails off under it (``why.trail``): the cut-in overlaps however long the
# interrupter's first words take to synthesize.
UNDER_WITHIN = 1.0


class RoomVoice:
    def __init__(
        self,
        room_id: str,
        setup: RoomSetup,
        floor: Floor,
        mixer: Mixer,
        events: EventHub,
        stats: RoomStats,
        tasks: BackgroundTasks,
        ready: Callable[[], Awaitable[None]],
        heard: Callable[[str], HeardAudio | None] = lambda _: None,
    ) -> None:
        self._room_id = room_id
        self._setup, self._floor, self._mixer = setup, floor, mixer
        self._events, self._stats, self._tasks = events, stats, tasks
        self._ready = ready  # a turn waits on it before it speaks (a debate's announcement)
        self._heard = heard  # a voiced turn's audio in the room's recording, if recorded
        self.timing = TurnTiming()
        self.speaking: str | None = None  # the agent whose voice is playing
        self._voiced: dict[str, str] = {}  # task id → agent, for turns voiced here
        self._stopped: dict[str, CancelReason] = {}  # voiced turns cut here, and why

    @property
    def voiced(self) -> dict[str, str]:
        """The turns being voiced here: task id → agent."""
        return dict(self._voiced)

    # ── the Delivery seam ──────────────────────────────────────────────────────
    def update_every(self, turn: TurnInfo) -> float:
        return 0.0  # word by word as heard: a debate's rivals bid on what they hear

    def deliver(self, turn: TurnInfo, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        return self._speak(turn.agent, turn.task_id, chunks)

    def stop(self, task_id: str, why: CancelReason) -> None:
        """Cuts a voiced turn now, or lets it trail off (``why.trail``); the first reason
        counts, and the turn's task ends ``canceled`` with it."""
        if task_id not in self._voiced or task_id in self._stopped:
            return
        self._stopped[task_id] = why
        if why.kind:
            self._stats.count("interruptions", kind=why.kind)
        channel = self._mixer.get(task_id)
        if channel is None:  # not speaking yet: it ends before its first word
            return
        if why.trail > 0 and not channel.paused:
            channel.fade(why.trail, under=UNDER_WITHIN)
        else:
            channel.flush()

    def stopped(self, task_id: str) -> CancelReason | None:
        return self._stopped.get(task_id)

    def finished(self, task_id: str) -> None:
        self._stopped.pop(task_id, None)

    def heard(self, task_id: str) -> HeardAudio | None:
        return self._heard(task_id)

    def progress(self, turn: TurnInfo, note: str) -> None:
        self._events.publish(ev.ProgressNoted(turn.agent, turn.task_id, note))

    # ── one voiced turn ────────────────────────────────────────────────────────
    async def _speak(
        self, agent: str, task_id: str, chunks: AsyncIterator[str]
    ) -> AsyncIterator[str]:
        """Voices one agent turn; yields the text as it is heard (see VoiceChannel)."""
        self._voiced[task_id] = agent
        try:
            await self._ready()
            if self._tasks.closed:  # the room closed while the turn was starting
                raise DeliveryError("the room was closed")
        except BaseException:
            self._voiced.pop(task_id, None)
            raise
        if task_id in self._stopped:  # cut before its first word: nothing to voice
            self._voiced.pop(task_id, None)
            return
        service = self._setup.directory.get(agent)
        voice = service.persona.voice if service else "en-us"
        channel = VoiceChannel(agent)
        self._mixer.add(task_id, channel)
        self.speaking = agent
        self._events.publish(ev.TurnStarted(agent, task_id))
        producer = self._tasks.spawn(self._synthesize(channel, chunks, voice))
        ended, voiced = "completed", False
        try:
            while (piece := await channel.played()) is not None:
                if not voiced:
                    voiced = True
                    self._voice_started(agent, task_id)
                self._events.publish(ev.WordsPlayed(agent, task_id, piece))
                yield piece
            if task_id not in self._stopped and (failure := await producer) is not None:
                raise failure  # the turn ends failed with what was heard
        except Exception:
            ended = "failed"
            raise
        except BaseException:  # canceled, or the consumer stopped reading
            ended = "interrupted"
            raise
        finally:
            producer.cancel()
            ended = "interrupted" if task_id in self._stopped else ended
            self._voiced.pop(task_id, None)
            channel.flush()  # keeps a trailing fade going
            self._mixer.retire(task_id)
            if self.speaking == agent:
                self.speaking = None
            self._floor.agent_ended(task_id)
            if ended == "completed" and voiced:
                self.timing.voice_completed(_now())
            self._events.publish(ev.TurnEnded(agent, task_id, ended))

    def _voice_started(self, agent: str, task_id: str) -> None:
        """The turn's first word is on its way out: the agent holds the floor."""
        self._floor.agent_started(agent, task_id)
        figure = self.timing.voice_started(_now())
        if figure is not None:
            name, seconds = figure
            self._stats.observe(name, seconds)
            if name == "e2e":
                voice_turn(self._room_id, agent, task_id, seconds)

    async def _synthesize(
        self, channel: VoiceChannel, chunks: AsyncIterator[str], voice: str
    ) -> DeliveryError | None:
        phraser = Phraser()
        try:
            async for chunk in chunks:
                for phrase in phraser.push(chunk, channel.idle):
                    channel.enqueue(await self._say(phrase, voice), phrase)
            if (rest := phraser.finish()) is not None:
                channel.enqueue(await self._say(rest, voice), rest)
        except DeliveryError as error:
            return error
        finally:
            channel.close()  # also on a failure: the turn ends with what was heard
        return None

    async def _say(self, text: str, voice: str) -> Speech:
        try:
            return await asyncio.to_thread(self._setup.tts.synthesize, text, voice)
        except SynthesisError as error:  # the turn fails, the room goes on
            self._events.publish(ev.EngineFailed("tts", str(error)))
            raise DeliveryError(f"text to speech failed: {error}") from error


def _now() -> float:
    return asyncio.get_running_loop().time()
