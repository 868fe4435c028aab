"""A voice room: the one place that reads the voice path top to bottom.

inbound   a participant's track → ``media.listener.listen`` (slicer → VAD → recognizer):
          voice started / continued / stopped, words, the final transcript
floor     what was heard → the room's ``Arbiter`` → ``Duck`` (pause the voice, drop queued
          frames), ``Interrupt`` (cancel the agent's task, saying who and why) or ``Resume``
turn      a final transcript → the router picks a debater (or the running debate takes it
          up) → an A2A task on that debater's service, claimed for this room's delivery
outbound  the turn's text → ``Phraser`` → TTS → ``VoiceChannel`` → ``Mixer`` every 20 ms →
          every participant's paced track; words are released as they are played
events    everything above as typed events (``server.rooms.events``) to every subscriber
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from a2a.utils.errors import A2AError
from aiortc.mediastreams import MediaStreamTrack

from agents.arbiter import Decision, Duck, Interrupt, Resume
from agents.delivery import DeliveryError, TurnInfo
from agents.floor import Floor
from agents.turn import CancelReason
from media.listener import (
    RecognitionFailed,
    TrackEnded,
    UtteranceRecognized,
    VoiceContinued,
    VoiceStarted,
    VoiceStopped,
    WordsRecognized,
    listen,
)
from media.live import LiveVoice
from media.mixer import Mixer
from media.phrasing import Phraser
from media.tts import Speech
from media.voice import VoiceChannel
from server.rooms import events as ev
from server.rooms.conversation import Conversation
from server.rooms.hub import RoomEvents
from server.rooms.participants import Participant, Participants
from server.rooms.setup import RoomSetup
from server.rooms.stats import RoomStats
from server.task_owner import TaskOwner
from server.telemetry import voice_turn

log = logging.getLogger(__name__)


class Room:
    def __init__(
        self,
        room_id: str,
        topic: str,
        agents: list[str],
        setup: RoomSetup,
        floor: Floor,
        stats: RoomStats,
    ) -> None:
        self.id, self.topic, self.agents = room_id, topic, agents
        self.context_id = f"room-{room_id}"
        self.owner = ""  # the principal that created it
        self.state = "open"
        self.speaking: str | None = None
        self.floor, self.stats = floor, stats
        self.events = RoomEvents(room_id)
        self.participants = Participants(
            room_id, setup.max_speakers, setup.max_listeners, setup.jitter_packets
        )
        self.created = time.time()
        self._setup = setup
        self._tasks = TaskOwner(f"room {room_id}")
        self._mixer = Mixer()
        self._voiced: dict[str, str] = {}  # task id → agent, for turns voiced here
        self._stopped: set[str] = set()  # voiced turns being canceled
        self._listening: dict[str, asyncio.Task[None]] = {}  # participant id → listener
        self.conversation = Conversation(
            self.context_id, topic, agents, setup, self, self.events, self._tasks
        )
        self._reply_due: float | None = None  # when a person stopped, awaiting an answer
        self._last_voice_end: float | None = None  # when the last turn finished speaking
        self._tasks.spawn(self._mix())

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "agents": self.agents,
            "state": self.state,
            "speaking": self.speaking,
            "context_id": self.context_id,
            "debate_task_id": self.conversation.debate_task_id,
            "floor": self.floor.arbiter.holder,
            "participants": [p.info() for p in self.participants],
            "stats": self.stats.summary(),
            "send_pacing_ms": _percentiles(self.participants.pacing()),
        }

    def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        return self.events.subscribe(self.info)

    # ── participants ───────────────────────────────────────────────────────────
    async def join(self, sdp: str, kind: str, role: str, name: str | None) -> tuple[str, str]:
        """Answers an SDP offer; returns (answer SDP, participant id)."""
        participant, answer = await self.participants.join_webrtc(
            sdp, kind, role, name, self._start_listening, self.leave
        )
        self.events.publish(ev.ParticipantJoined(**participant.info()))
        return answer, participant.id

    def join_socket(self, role: str, name: str | None, inbound: MediaStreamTrack) -> Participant:
        participant = self.participants.join_socket(role, name, inbound, self._start_listening)
        self.events.publish(ev.ParticipantJoined(**participant.info()))
        return participant

    async def leave(self, participant_id: str) -> None:
        participant = await self.participants.remove(participant_id)
        if participant is None:
            return
        if (listener := self._listening.pop(participant_id, None)) is not None:
            listener.cancel()  # its ``finally`` gives the floor back
            await asyncio.gather(listener, return_exceptions=True)
        self.events.publish(ev.ParticipantLeft(**participant.info()))

    def _start_listening(self, participant: Participant, track: MediaStreamTrack) -> None:
        self._listening[participant.id] = self._tasks.spawn(self._listen(participant, track))

    # ── inbound ────────────────────────────────────────────────────────────────
    async def _listen(self, participant: Participant, track: MediaStreamTrack) -> None:
        who, arbiter, setup = participant.name, self.floor.arbiter, self._setup
        accepted, partial, voiced, gone = False, "", 0.0, False
        voice = LiveVoice()  # what everyone else hears of this person
        self._mixer.add_person(participant.id, voice)
        try:
            async with contextlib.aclosing(
                listen(track, setup.vad, setup.stt, voice.push)
            ) as heard:
                async for event in heard:
                    match event:
                        case VoiceStarted(onset=onset, detected=detected):
                            self.stats.observe("vad_onset", max(0.0, detected - onset))
                            partial, voiced, self._last_voice_end = "", 0.0, None
                            decisions = arbiter.speech_started(who)
                            accepted = arbiter.accepted(who)
                            self.events.publish(ev.SpeechStarted(who, participant.id, accepted))
                            self._apply(decisions)
                        case VoiceContinued(voiced=voiced):
                            self._apply(arbiter.speech_progress(who, voiced, partial))
                        case WordsRecognized(text=partial):
                            self.events.publish(ev.PartialTranscript(who, partial))
                            self._apply(arbiter.speech_progress(who, voiced, partial))
                        case VoiceStopped(duration=duration, silence=silence):
                            self.events.publish(ev.SpeechStopped(who, participant.id, duration))
                            if accepted:
                                self._reply_due = _now() - silence
                        case UtteranceRecognized(text=text):
                            self._tasks.spawn(self._utterance(who, text, accepted, gone))
                        case RecognitionFailed(reason=reason):
                            self.events.publish(ev.EngineFailed("stt", reason))
                            self._tasks.spawn(self._utterance(who, "", accepted, gone))
                        case TrackEnded():  # the person left, maybe mid-utterance
                            gone = True
                            self._apply(arbiter.left(who))
        finally:  # the track ended or the participant left, maybe mid-utterance
            self._mixer.remove_person(participant.id)
            self._apply(arbiter.left(who))
            self.floor.changed()

    async def _utterance(self, who: str, text: str, accepted: bool, gone: bool) -> None:
        """The final transcript: answered when it was real and its speaker is still here."""
        arbiter = self.floor.arbiter
        real = arbiter.is_turn(who, text)
        ignored = None
        if not accepted:
            ignored = "half duplex" if arbiter.policy.half_duplex else "echo guard"
        elif text and not real:
            ignored = arbiter.why_not(text)
        try:
            self.events.publish(ev.FinalTranscript(who, text, ignored=ignored))
            self._apply(arbiter.speech_ended(who, text))
            if accepted and real and not gone:
                try:
                    await self.say(text, who, typed=False)
                except A2AError:
                    if self.state != "closed":
                        raise  # the room closing stops the answer; anything else is a fault
            else:
                self._reply_due = None
        finally:
            arbiter.handed_off(who)
            self.floor.changed()

    # ── the floor ──────────────────────────────────────────────────────────────
    def _apply(self, decisions: list[Decision]) -> None:
        """Carries out the floor's decisions about people (the moderator handles bids)."""
        for decision in decisions:
            match decision:
                case Duck(agent=agent, turn_id=turn_id, by=by):
                    if (channel := self._mixer.get(turn_id)) is not None:
                        channel.pause()
                        self._time_duck(_now())
                    self.events.publish(ev.Ducked(agent, turn_id, by))
                case Resume(agent=agent, turn_id=turn_id, by=by, reason=reason):
                    if (channel := self._mixer.get(turn_id)) is not None:
                        channel.resume()
                    self.stats.count("false_starts")
                    self.events.publish(ev.Resumed(agent, turn_id, by, reason))
                case Interrupt(agent=agent, turn_id=turn_id, by=by, kind=kind, reason=reason):
                    self.events.publish(ev.Interrupted(agent, turn_id, by, kind, reason))
                    why = CancelReason(f"interrupted by {by}", by, kind)
                    self._tasks.spawn(self.conversation.cancel(agent, turn_id, why))
        if decisions:
            self.floor.changed()

    def _time_duck(self, onset: float) -> None:
        """Drops every queued frame so the duck is on the wire next; times onset → wire."""
        watchers = [p.track.drop_queued() for p in self.participants]
        if watchers:
            self._tasks.spawn(self._observe_duck(onset, watchers))

    async def _observe_duck(self, onset: float, watchers: list[asyncio.Future[float]]) -> None:
        done, pending = await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
        for watcher in pending:
            watcher.cancel()
        self.stats.observe("bargein", next(iter(done)).result() - onset)

    # ── turns ──────────────────────────────────────────────────────────────────
    async def say(self, text: str, who: str, typed: bool = True) -> str | None:
        """A person's utterance (spoken or typed) becomes a turn; returns the answering agent
        (None when a running debate takes it up at its next turn boundary)."""
        if typed:
            self.events.publish(ev.FinalTranscript(who, text, typed=True))
            self._apply(self.floor.arbiter.typed(who))
        return await self.conversation.say(text, who)

    async def start_debate(self, rounds: int | None, interruptions: int | None = None) -> None:
        self.floor.arbiter.new_debate()
        await self.conversation.start_debate(rounds, interruptions)

    # ── outbound: this room is the delivery of the turns it voices ─────────────
    def update_every(self, turn: TurnInfo) -> float:
        return 0.0  # word by word as heard: a debate's rivals bid on what they hear

    def deliver(self, turn: TurnInfo, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        return self._speak(turn.agent, turn.task_id, chunks)

    def stop(self, task_id: str, why: CancelReason) -> None:
        """Stops a voiced turn now, or lets it trail off (``why.trail``); counted once."""
        channel = self._mixer.get(task_id)
        if channel is None or task_id in self._stopped:
            return
        self._stopped.add(task_id)
        if why.kind:
            self.stats.count("interruptions", kind=why.kind)
        if why.trail > 0 and not channel.paused:
            channel.fade(why.trail)
        else:
            channel.flush()

    def progress(self, turn: TurnInfo, note: str) -> None:
        self.events.publish(ev.ProgressNoted(turn.agent, turn.task_id, note))

    async def _speak(
        self, agent: str, task_id: str, chunks: AsyncIterator[str]
    ) -> AsyncIterator[str]:
        """Voices one agent turn; yields the text as it is heard (see VoiceChannel)."""
        await self.conversation.announced()  # a debate's first turn follows DebateStarted
        if self._tasks.closed:  # the room closed while the turn was starting
            raise DeliveryError("the room was closed")
        service = self._setup.directory.get(agent)
        voice = service.persona.voice if service else "en-us"
        channel = VoiceChannel(agent)
        self._mixer.add(task_id, channel)
        self._voiced[task_id] = agent
        self.speaking = agent
        self.events.publish(ev.TurnStarted(agent, task_id))
        producer = self._tasks.spawn(self._synthesize(channel, chunks, voice))
        ended, voiced = "completed", False
        try:
            while (piece := await channel.played()) is not None:
                if not voiced:
                    voiced = True
                    self._voice_started(agent, task_id)
                self.events.publish(ev.WordsPlayed(agent, task_id, piece))
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
            self._stopped.discard(task_id)
            self._voiced.pop(task_id, None)
            channel.flush()  # keeps a trailing fade going
            self._mixer.retire(task_id)
            if self.speaking == agent:
                self.speaking = None
            self.floor.arbiter.agent_ended(task_id)
            self.floor.changed()
            if ended == "completed" and voiced:
                self._last_voice_end = _now()
            self.events.publish(ev.TurnEnded(agent, task_id, ended))

    async def _synthesize(
        self, channel: VoiceChannel, chunks: AsyncIterator[str], voice: str
    ) -> DeliveryError | None:
        phraser = Phraser()
        try:
            async for chunk in chunks:
                for phrase in phraser.push(chunk, channel.idle):
                    channel.enqueue(await self._voice(phrase, voice), phrase)
            if (rest := phraser.finish()) is not None:
                channel.enqueue(await self._voice(rest, voice), rest)
        except DeliveryError as error:
            return error
        finally:
            channel.close()  # also on a failure: the turn ends with what was heard
        return None

    async def _voice(self, text: str, voice: str) -> Speech:
        try:
            return await asyncio.to_thread(self._setup.tts.synthesize, text, voice)
        except Exception as error:  # any engine failure: the turn fails, the room goes on
            self.events.publish(ev.EngineFailed("tts", str(error)))
            raise DeliveryError(f"text to speech failed: {error}") from error

    def _voice_started(self, agent: str, task_id: str) -> None:
        """The turn's first word is on its way out: the agent holds the floor."""
        self.floor.arbiter.agent_started(agent, task_id)
        if self._reply_due is not None:
            waited = _now() - self._reply_due
            self.stats.observe("e2e", waited)
            voice_turn(self.id, agent, task_id, waited)
            self._reply_due = None
        elif self._last_voice_end is not None:
            self.stats.observe("turn_gap", _now() - self._last_voice_end)
        self._last_voice_end = None

    async def _mix(self) -> None:
        """Every 20 ms: one frame of every active voice, to every participant."""
        async for tick in self._setup.metronome.ticks():
            frame, overlap = self._mixer.tick()
            if overlap is not None:
                self.stats.observe("overlap", overlap)
            self.participants.send(frame, tick)

    # ── closing ────────────────────────────────────────────────────────────────
    async def close(self) -> None:
        self.state = "closed"
        await self.conversation.end_debate("the room was closed")
        turns = dict(self._voiced)
        if (reply := self.conversation.reply) is not None:
            turns[reply[1]] = reply[0].name
        why = CancelReason("room closed", "room", "closed")
        for task_id, agent in turns.items():
            await self.conversation.cancel(agent, task_id, why)
        for participant in self.participants:
            await self.leave(participant.id)
        await self._tasks.aclose()
        self.events.publish(ev.RoomClosed())


def _percentiles(seconds: list[float]) -> dict[str, float] | None:
    """p50/p99 in ms of the participants' latest send intervals (None: nobody listening)."""
    if not seconds:
        return None
    p50, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 99])
    return {"p50": round(float(p50), 1), "p99": round(float(p99), 1), "count": len(seconds)}


def _now() -> float:
    return asyncio.get_running_loop().time()
