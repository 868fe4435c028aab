"""A voice room: the one place that reads the voice path top to bottom.

inbound   a participant's track → ``media.hearing.hear`` (slicer → VAD → recognizer):
          voice started / continued / stopped, words, the final transcript
floor     what was heard → the room's ``Floor`` → ``Duck`` (pause the voice, drop queued
          frames), ``Interrupt`` (stop the voiced turn here, saying who and why: its task
          ends ``canceled``) or ``Resume``
turn      a final transcript → the router picks a debater (or the running debate takes it
          up) → an A2A task on that debater's service, claimed for this room's voice
outbound  the turn's text → ``RoomVoice`` (phrases → TTS → ``VoiceChannel``) → ``Mixer``
          every 20 ms → every participant's paced track; words are released as played
record    everyone's Opus packet and every event → a ``Recorder`` (when recording)
events    everything above as typed events (``server.rooms.events``) to every subscriber
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from a2a.utils.errors import A2AError
from aiortc.mediastreams import MediaStreamTrack
from sqlalchemy.exc import SQLAlchemyError

from agents.delivery import HeardAudio
from agents.floor.arbiter import Decision, Duck, Hold, Interrupt, Release, Resume
from agents.floor.floors import Floor
from agents.turn import CancelReason
from media.end_of_turn import Patience
from media.hearing import (
    RecognitionFailed,
    TrackEnded,
    UtteranceRecognized,
    VoiceContinued,
    VoiceStarted,
    VoiceStopped,
    VoiceSuspected,
    VoiceUnconfirmed,
    WordsRecognized,
    hear,
)
from media.ice import IceConfig
from media.live import LiveVoice
from media.mixer import Mixer
from server.background import BackgroundTasks
from server.http.errors import Conflict, Unavailable
from server.recordings.recorder import Recorder
from server.rooms import events as ev
from server.rooms.broadcast import IDLE, Broadcast
from server.rooms.conversation import Conversation
from server.rooms.event_hub import EventHub
from server.rooms.participants import Participant, Participants
from server.rooms.pause_timing import PauseTiming
from server.rooms.resumption import Spoken
from server.rooms.room_setup import RoomSetup
from server.rooms.room_voice import RoomVoice
from server.rooms.stats import RoomStats, pacing_percentiles
from store.recordings import Recording

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
        self.invited: dict[str, dict[str, str]] = {}  # agents invited by URL: name → who
        self.state = "open"
        self.floor, self.stats = floor, stats
        self.events = EventHub(room_id)
        self.participants = Participants(
            room_id, setup.max_speakers, setup.max_listeners, setup.jitter_packets
        )
        self.created = time.time()
        self._setup = setup
        self._tasks = BackgroundTasks(f"room {room_id}")
        self._mixer = Mixer()
        self._pauses = PauseTiming(
            self.participants, self._tasks, lambda s: self.stats.observe("bargein", s)
        )
        self._listening: dict[str, asyncio.Task[None]] = {}  # participant id → its hearing
        self._recorder: Recorder | None = None
        self._recording: asyncio.Task[None] | None = None  # the recorder's storing
        self._broadcast: Broadcast | None = None
        self.voice = RoomVoice(
            room_id,
            setup,
            floor,
            self._mixer,
            self.events,
            stats,
            self._tasks,
            ready=lambda: self.conversation.announced(),
            heard=self._heard_audio,
        )
        within = floor.arbiter.policy.resume_within  # the floor's, for a sentence resumed
        self.conversation = Conversation(
            self.context_id, topic, agents, setup, self.voice, self.events, self._tasks, within
        )
        self._tasks.spawn(self._mix())

    @property
    def speaking(self) -> str | None:
        return self.voice.speaking

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "agents": self.agents,
            "invited": self.invited,
            "state": self.state,
            "speaking": self.speaking,
            "context_id": self.context_id,
            "debate_task_id": self.conversation.debate_task_id,
            "floor": self.floor.arbiter.holder,
            "participants": [p.info() for p in self.participants],
            "recording": None if self._recorder is None else self._recorder.recording.info(),
            "stats": self.stats.summary(),
            "send_pacing_ms": pacing_percentiles(self.participants.pacing()),
        }

    def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        return self.events.subscribe(self.info)

    # ── participants ───────────────────────────────────────────────────────────
    async def join(
        self, sdp: str, kind: str, role: str, name: str | None, ice: IceConfig | None = None
    ) -> tuple[str, str]:
        """Answers an SDP offer; returns (answer SDP, participant id)."""
        participant, answer = await self.participants.join_webrtc(
            sdp, kind, role, name, self._start_hearing, self.leave, ice
        )
        self.events.publish(ev.ParticipantJoined(**participant.info()))
        return answer, participant.id

    def join_socket(self, role: str, name: str | None, inbound: MediaStreamTrack) -> Participant:
        participant = self.participants.join_socket(role, name, inbound, self._start_hearing)
        self.events.publish(ev.ParticipantJoined(**participant.info()))
        return participant

    async def leave(self, participant_id: str) -> None:
        participant = await self.participants.remove(participant_id)
        if participant is None:
            return
        if (hearing := self._listening.pop(participant_id, None)) is not None:
            hearing.cancel()  # its ``finally`` gives the floor back
            await asyncio.wait({hearing})
        self.events.publish(ev.ParticipantLeft(**participant.info()))

    def _start_hearing(self, participant: Participant, track: MediaStreamTrack) -> None:
        self._listening[participant.id] = self._tasks.spawn(self._hear(participant, track))

    # ── inbound ────────────────────────────────────────────────────────────────
    async def _hear(self, participant: Participant, track: MediaStreamTrack) -> None:
        who, floor, setup, timing = participant.name, self.floor, self._setup, self.voice.timing
        accepted, partial, voiced, listened, gone = False, "", 0.0, 0.0, False
        started = stopped = 0.0  # when the running utterance's voice began and stopped
        live = LiveVoice()  # what everyone else hears of this person
        patience = Patience()  # what this person's pauses have taught the end of turn
        self._mixer.add_person(participant.id, live)
        try:
            async with contextlib.aclosing(
                hear(track, setup.vad, setup.stt, live.push, patience)
            ) as heard:
                async for event in heard:
                    match event:
                        case VoiceSuspected():
                            self._apply(floor.speech_suspected(who))
                        case VoiceUnconfirmed():
                            self._apply(floor.suspicion_cleared(who))
                        case VoiceStarted(onset=onset, detected=detected):
                            self.stats.observe("vad_onset", max(0.0, detected - onset))
                            partial, voiced, listened = "", 0.0, 0.0
                            started = _now() - max(0.0, detected - onset)
                            timing.person_started()
                            decisions = floor.speech_started(who)
                            accepted = floor.arbiter.accepted(who)
                            self.events.publish(ev.SpeechStarted(who, participant.id, accepted))
                            self._apply(decisions)
                        case VoiceContinued(voiced=voiced, listened=listened):
                            self._apply(floor.speech_progress(who, voiced, partial, listened))
                        case WordsRecognized(text=partial):
                            self.events.publish(ev.PartialTranscript(who, partial))
                            self._apply(floor.speech_progress(who, voiced, partial, listened))
                        case VoiceStopped(duration=duration, silence=silence):
                            self.events.publish(ev.SpeechStopped(who, participant.id, duration))
                            stopped = _now() - silence
                            if accepted:
                                timing.person_stopped(stopped)
                        case UtteranceRecognized(text=text):
                            spoken = Spoken(started, stopped, patience)
                            self._tasks.spawn(self._utterance(who, text, accepted, gone, spoken))
                        case RecognitionFailed(reason=reason):
                            self.events.publish(ev.EngineFailed("stt", reason))
                            spoken = Spoken(started, stopped, patience)
                            self._tasks.spawn(self._utterance(who, "", accepted, gone, spoken))
                        case TrackEnded():  # the person left, maybe mid-utterance
                            gone = True
                            self._apply(floor.left(who))
        finally:  # the track ended or the participant left, maybe mid-utterance
            self._mixer.remove_person(participant.id)
            self._apply(floor.left(who))

    async def _utterance(
        self, who: str, text: str, accepted: bool, gone: bool, spoken: Spoken
    ) -> None:
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
            self._apply(self.floor.speech_ended(who, text))
            if accepted and real and not gone:
                try:
                    await self.say(text, who, spoken)
                except A2AError:
                    if self.state != "closed":
                        raise  # the room closing stops the answer; anything else is a fault
            else:
                self.voice.timing.unanswered()
        finally:
            self.floor.handed_off(who)

    # ── the floor ──────────────────────────────────────────────────────────────
    def _apply(self, decisions: list[Decision]) -> None:
        """Carries out the floor's decisions about people (the moderator handles bids)."""
        for decision in decisions:
            match decision:
                case Hold(turn_id=turn_id):  # a suspected onset: held at once, quietly
                    if (channel := self._mixer.get(turn_id)) is not None:
                        channel.pause()
                        self._pauses.held(turn_id, _now())
                case Release(turn_id=turn_id):  # …and no speech came: it goes on
                    if (channel := self._mixer.get(turn_id)) is not None:
                        channel.resume()
                    self._pauses.released(turn_id)
                    self.stats.count("holds_released")
                case Duck(agent=agent, turn_id=turn_id, by=by, held=held):
                    channel = None if held else self._mixer.get(turn_id)
                    if channel is not None:
                        channel.pause()
                    self._pauses.ducked(turn_id, _now(), paused_now=channel is not None)
                    self.events.publish(ev.Ducked(agent, turn_id, by))
                case Resume(agent=agent, turn_id=turn_id, by=by, reason=reason):
                    if (channel := self._mixer.get(turn_id)) is not None:
                        channel.resume()
                    self.stats.count("false_starts")
                    self.events.publish(ev.Resumed(agent, turn_id, by, reason))
                case Interrupt(agent=agent, turn_id=turn_id, by=by, kind=kind, reason=reason):
                    self.events.publish(ev.Interrupted(agent, turn_id, by, kind, reason))
                    self.conversation.interrupted(turn_id, by)
                    self.voice.stop(turn_id, CancelReason(f"interrupted by {by}", by, kind))

    # ── turns ──────────────────────────────────────────────────────────────────
    async def say(self, text: str, who: str, spoken: Spoken | None = None) -> str | None:
        """A person's utterance (spoken, or typed when ``spoken`` is None) becomes a turn;
        returns the answering agent (None when a running debate takes it up at its next turn
        boundary)."""
        if spoken is None:
            self.events.publish(ev.FinalTranscript(who, text, typed=True))
            self._apply(self.floor.typed(who))
        return await self.conversation.say(text, who, spoken)

    async def start_debate(self, rounds: int | None, interruptions: int | None = None) -> None:
        self.floor.new_debate()
        await self.conversation.start_debate(rounds, interruptions)

    async def _mix(self) -> None:
        """Every 20 ms: one frame of every active voice, to every participant."""
        async for tick in self._setup.metronome.ticks():
            frame, overlap = self._mixer.tick()
            if overlap is not None:
                self.stats.observe("overlap", overlap)
            self.participants.send(frame, tick)

    # ── recording ──────────────────────────────────────────────────────────────
    @property
    def recording_id(self) -> str | None:
        return None if self._recorder is None else self._recorder.id

    async def start_recording(self) -> Recording:
        """Records the listeners' mix and the transcript from now until stopped or closed."""
        store = self._setup.recordings
        if store is None:
            raise Unavailable("this server does not record rooms")
        if self._recorder is not None:
            raise Conflict(f"this room is being recorded already ({self._recorder.id})")
        try:
            recording = await store.create(
                uuid.uuid4().hex[:12], self.id, self.owner, self.topic, self.agents
            )
        except (SQLAlchemyError, OSError) as error:
            raise Unavailable(f"the recording could not start (database: {error})") from error
        if self._recorder is not None or self.state == "closed":  # changed while it was made
            await store.delete(recording.id)
            raise Conflict("this room is being recorded already, or was closed")
        recorder = Recorder(recording, store, self._setup.store_seconds, self._recording_stopped)
        self._recorder = recorder
        self.participants.tap(recorder.id, recorder.packet)
        self.events.listen(recorder.id, recorder.event)
        self._recording = self._tasks.spawn(recorder.run())
        self.events.publish(ev.RecordingStarted(recording.id))
        return recording

    async def stop_recording(self, reason: str = "stopped") -> str | None:
        """Stops the recording (its last seconds stored); its id, or None if none ran."""
        recorder, storing = self._recorder, self._recording
        if recorder is None or storing is None:
            return None
        recorder.stop(reason)
        await asyncio.wait({storing})
        return recorder.id

    def _heard_audio(self, task_id: str) -> HeardAudio | None:
        """A turn's audio as heard: a clip of the recording, while the room is recorded."""
        recorder = self._recorder
        span = recorder.span(task_id) if recorder is not None else None
        if recorder is None or span is None:
            return None
        start, end = (round(t, 2) for t in span)
        url = f"{self._setup.public_url}/recordings/{recorder.id}/audio?start={start}&end={end}"
        return HeardAudio(url, "audio/ogg", f"{task_id}.ogg")

    def _recording_stopped(self, recorder: Recorder, state: str, reason: str) -> None:
        self.participants.untap(recorder.id)
        self.events.unlisten(recorder.id)
        if self._recorder is recorder:
            self._recorder = self._recording = None
        if state == "failed":
            self.events.publish(ev.EngineFailed("recording", reason))
        self.events.publish(ev.RecordingStopped(recorder.id, state, reason))

    # ── broadcast ──────────────────────────────────────────────────────────────
    @property
    def running_broadcast(self) -> Broadcast | None:
        return self._broadcast

    def broadcast(self) -> Broadcast:
        """The room's live broadcast (HLS), started if it was not running."""
        if self._broadcast is None:
            self._broadcast = Broadcast()
            self.participants.tap("broadcast", self._broadcast.packet)
            self._tasks.spawn(self._end_idle_broadcast(self._broadcast))
        self._broadcast.asked()
        return self._broadcast

    async def _end_idle_broadcast(self, broadcast: Broadcast) -> None:
        """Stops the broadcast once nobody asked for it for ``IDLE`` seconds (a watchdog)."""
        try:
            idle = False
            while not idle:
                await asyncio.sleep(IDLE / 3)
                idle = broadcast.idle
        finally:
            self.participants.untap("broadcast")
            self._broadcast = None
            broadcast.close()

    # ── closing ────────────────────────────────────────────────────────────────
    async def close(self) -> None:
        self.state = "closed"
        await self.conversation.end_debate("the room was closed")
        turns = self.voice.voiced
        if (reply := self.conversation.reply) is not None:
            turns[reply[1]] = reply[0].name
        why = CancelReason("room closed", "room", "closed")
        for task_id in turns:  # stopped here first: each ends canceled even if the cancel
            self.voice.stop(task_id, why)  # below finds no stored task yet (just begun)
        for task_id, agent in turns.items():
            await self.conversation.cancel(agent, task_id, why)
        await self.stop_recording("the room was closed")
        for participant in self.participants:
            await self.leave(participant.id)
        await self._tasks.aclose()
        self.events.publish(ev.RoomClosed())


def _now() -> float:
    return asyncio.get_running_loop().time()
