"""A voice room: the one place that knows the whole voice path, top to bottom.

inbound   participant track → FrameSlicer (16 kHz, 20 ms) → VadSegmenter → speech events
          + utterance audio → Recognizer (fed while the person speaks) → transcript
floor     speech events → the room's Arbiter → duck (pause the voice, drop queued frames),
          interrupt (cancel the agent's task with who and why), or resume after a false start
turn      transcript → router picks a debater (or the running debate takes it up)
          → A2A task on that debater's service, delivered by voice (``speak``)
outbound  debater text → sentences → TextToSpeech → VoiceChannel → room clock mixes 20 ms
          → every participant's PacedAudioTrack (silence when nobody speaks)
events    everything above, as JSON dicts, to SSE / WebSocket subscribers
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from a2a.utils.errors import A2AError
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from google.protobuf.json_format import MessageToDict

from agents.arbiter import Decision, Duck, Interrupt, Resume
from agents.brain import BrainError
from agents.executor import DebaterExecutor
from agents.floor import Floor
from agents.router import route
from agents.service import AgentDirectory, AgentService
from media.inbound import FrameSlicer, set_jitter_depth
from media.outbound import OUT_SAMPLES, PacedAudioTrack
from media.stt import Recognizer, SpeechToText
from media.tts import TextToSpeech
from media.vad import SpeechStarted, SpeechStopped, VadConfig, VadSegmenter
from media.voice import VoiceChannel
from server.room_stats import RoomStats

log = logging.getLogger(__name__)
TICK = 0.02
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s")
_CLAUSE_END = re.compile(r"(?<=,)\s")
FIRST_PHRASE_WORDS = 4  # with nothing playing, voicing starts once this many words are in
AUDIBLE = 300  # peak sample level above which a voice counts as audible (for overlap figures)


@dataclass
class Participant:
    id: str
    name: str
    role: str  # "speaker" or "listener"
    pc: RTCPeerConnection | None  # None for a WebSocket participant
    track: PacedAudioTrack
    joined: float = field(default_factory=time.time)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    partial: str = ""  # words recognized so far in the running utterance
    heard: bool = False  # the floor took this utterance (not the echo guard's or half duplex)

    def info(self) -> dict[str, Any]:
        transport = "webrtc" if self.pc is not None else "websocket"
        return {"id": self.id, "name": self.name, "role": self.role, "transport": transport}


class Room:
    def __init__(
        self,
        room_id: str,
        topic: str,
        agents: list[str],
        directory: AgentDirectory,
        stt: SpeechToText,
        tts: TextToSpeech,
        vad: VadConfig,
        jitter_packets: int,
        max_participants: int,
        floor: Floor,
        stats: RoomStats,
    ) -> None:
        self.id = room_id
        self.topic = topic
        self.agents = agents
        self.context_id = f"room-{room_id}"
        self.participants: dict[str, Participant] = {}
        self.state = "open"
        self.speaking: str | None = None
        self._directory = directory
        self._stt = stt
        self._tts = tts
        self._vad = vad
        self._jitter = jitter_packets
        self._max = max_participants
        self._voices: dict[str, VoiceChannel] = {}
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._turn: asyncio.Task[None] | None = None
        self._debate: asyncio.Task[None] | None = None
        self._debate_task_id: str | None = None
        self._reply: tuple[AgentService, str] | None = None  # the routed answer being made
        self.floor = floor
        self.stats = stats
        self._cut: set[str] = set()  # turns cut by an interruption
        self._trailing: set[str] = set()  # cut voices still trailing off
        self._reply_due: float | None = None  # when a person stopped, awaiting an answer
        self._last_voice_end: float | None = None  # when the last turn finished speaking
        self.created = time.time()
        self._spawn(self._clock())

    # ── lifecycle ──────────────────────────────────────────────────────────────
    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "agents": self.agents,
            "state": self.state,
            "speaking": self.speaking,
            "context_id": self.context_id,
            "debate_task_id": self._debate_task_id,
            "floor": self.floor.arbiter.holder,
            "participants": [p.info() for p in self.participants.values()],
            "stats": self.stats.summary(),
        }

    async def close(self) -> None:
        self.state = "closed"
        await self._cancel_debate_task()
        turns = [(c.speaker, task_id) for task_id, c in self._voices.items()]
        if self._reply is not None:
            turns.append((self._reply[0].name, self._reply[1]))
        for agent, task_id in dict.fromkeys(turns):
            await self._cancel_turn(agent, task_id, "room closed", "room", "closed")
        for task in (self._turn, self._debate):
            if task is not None:
                task.cancel()
        for participant in list(self.participants.values()):
            await self.leave(participant.id)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.publish({"type": "room_closed"})

    # ── events ─────────────────────────────────────────────────────────────────
    def publish(self, event: dict[str, Any]) -> None:
        event = {"room": self.id, "t": round(time.time(), 3), **event}
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        try:
            yield {"type": "room", **self.info()}
            while True:
                event = await queue.get()
                yield event
                if event["type"] == "room_closed":
                    return
        finally:
            self._subscribers.discard(queue)

    # ── joining ────────────────────────────────────────────────────────────────
    async def join(self, sdp: str, kind: str, role: str, name: str | None) -> tuple[str, str]:
        """Answers an SDP offer; returns (answer SDP, participant id)."""
        if len(self.participants) >= self._max:
            raise RoomFull(f"room {self.id} is full ({self._max} participants)")
        pc = RTCPeerConnection()
        participant_id = uuid.uuid4().hex[:12]
        participant = Participant(
            participant_id, name or f"{role}-{participant_id[:4]}", role, pc, PacedAudioTrack()
        )

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind != "audio" or role != "speaker":
                return
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track:
                    set_jitter_depth(transceiver.receiver, self._jitter)
            task = self._spawn(self._listen(participant, track))
            participant.tasks.add(task)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.leave(participant_id)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
            pc.addTrack(participant.track)
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except Exception as error:  # aiortc raises ValueError/TypeError/etc. on bad SDP
            await pc.close()
            raise BadOffer(f"cannot answer this offer: {error}") from error
        self.participants[participant_id] = participant
        self.publish({"type": "participant_joined", **participant.info()})
        return pc.localDescription.sdp, participant_id

    def join_socket(self, role: str, name: str | None, inbound: MediaStreamTrack | None) -> str:
        """A WebSocket participant: ``inbound`` is its audio (speakers), the room's mix goes
        out through its ``PacedAudioTrack``; returns the participant id."""
        if len(self.participants) >= self._max:
            raise RoomFull(f"room {self.id} is full ({self._max} participants)")
        participant_id = uuid.uuid4().hex[:12]
        participant = Participant(
            participant_id, name or f"{role}-{participant_id[:4]}", role, None, PacedAudioTrack()
        )
        self.participants[participant_id] = participant
        if inbound is not None and role == "speaker":
            participant.tasks.add(self._spawn(self._listen(participant, inbound)))
        self.publish({"type": "participant_joined", **participant.info()})
        return participant_id

    async def leave(self, participant_id: str) -> None:
        participant = self.participants.pop(participant_id, None)
        if participant is None:
            return
        for task in participant.tasks:
            task.cancel()
        participant.track.stop()
        if participant.pc is not None:
            await participant.pc.close()
        self.publish({"type": "participant_left", **participant.info()})

    # ── inbound ────────────────────────────────────────────────────────────────
    async def _listen(self, participant: Participant, track: MediaStreamTrack) -> None:
        slicer = FrameSlicer()
        segmenter = VadSegmenter(self._vad)
        stream_time = 0.0
        feed: asyncio.Queue[np.ndarray | None] | None = None
        stt_task: asyncio.Task[str] | None = None
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                for pcm in slicer.push(frame):
                    stream_time += TICK
                    for event in segmenter.push(pcm, stream_time):
                        match event:
                            case SpeechStarted():
                                self.publish(
                                    {
                                        "type": "speech_started",
                                        "who": participant.name,
                                        "participant": participant.id,
                                    }
                                )
                                self._onset(participant)
                                feed = asyncio.Queue()
                                stt_task = self._spawn(
                                    self._recognize(participant, feed)
                                )
                            case SpeechStopped():
                                self.publish(
                                    {
                                        "type": "speech_stopped",
                                        "who": participant.name,
                                        "participant": participant.id,
                                        "duration": round(len(event.audio) / 16000, 2),
                                    }
                                )
                                if participant.heard:
                                    loop = asyncio.get_running_loop()
                                    self._reply_due = loop.time() - self._vad.hangover
                                if feed is not None and stt_task is not None:
                                    feed.put_nowait(None)
                                    self._spawn(self._after_utterance(participant, stt_task))
                                feed, stt_task = None, None
                    if feed is not None and segmenter.speaking:
                        feed.put_nowait(pcm)
                        self._apply(
                            self.floor.arbiter.speech_progress(
                                participant.name, segmenter.voiced, participant.partial
                            )
                        )
        except MediaStreamError:
            log.info("participant %s stopped sending audio", participant.id)
        finally:
            if feed is not None:
                feed.put_nowait(None)

    async def _recognize(
        self, participant: Participant, feed: asyncio.Queue[Any]
    ) -> str:
        # Off the event loop: a decoder may have to load its model first.
        recognizer: Recognizer = await asyncio.to_thread(self._stt.recognizer)
        batch: list[np.ndarray] = []
        last_partial = ""
        while True:
            pcm = await feed.get()
            if pcm is not None:
                batch.append(pcm)
            if pcm is None or len(batch) >= 5:
                if batch:
                    partial = await asyncio.to_thread(recognizer.feed, np.concatenate(batch))
                    batch = []
                    if partial and partial != last_partial:
                        last_partial = partial
                        participant.partial = partial
                        self.publish(
                            {
                                "type": "transcript",
                                "final": False,
                                "text": partial,
                                "who": participant.name,
                            }
                        )
            if pcm is None:
                return await asyncio.to_thread(recognizer.finish)

    async def _after_utterance(self, participant: Participant, stt: asyncio.Task[str]) -> None:
        who = participant.name
        arbiter = self.floor.arbiter
        try:
            try:
                text = (await stt).strip()
            except Exception as error:  # an engine failure is an event, never a dead room
                log.exception("speech recognition failed")
                self.publish({"type": "error", "stage": "stt", "message": str(error)})
                text = ""
            event = {"type": "transcript", "final": True, "text": text, "who": who}
            if not participant.heard:
                event["ignored"] = "echo guard" if not arbiter.policy.half_duplex else "half duplex"
            self.publish(event)
            self._apply(arbiter.speech_ended(who, text))
            if participant.heard and text and not arbiter.is_backchannel(text):
                await self.say(text, who, typed=False)
            else:
                self._reply_due = None
        finally:
            arbiter.handed_off(who)
            self.floor.changed()

    # ── the floor ──────────────────────────────────────────────────────────────
    def _onset(self, participant: Participant) -> None:
        participant.partial = ""
        self._last_voice_end = None  # a person spoke: the next gap is not a debaters' gap
        decisions = self.floor.arbiter.speech_started(participant.name)
        participant.heard = participant.name in self.floor.arbiter.humans
        self._apply(decisions)

    def _apply(self, decisions: list[Decision]) -> None:
        """Carries out the floor's decisions about people (the moderator handles bids)."""
        for decision in decisions:
            match decision:
                case Duck(agent=agent, turn_id=turn_id, by=by):
                    if (channel := self._voices.get(turn_id)) is not None:
                        channel.pause()
                        self._time_duck(asyncio.get_running_loop().time())
                    self.publish({"type": "ducked", "agent": agent, "task_id": turn_id, "by": by})
                case Resume(agent=agent, turn_id=turn_id, by=by, reason=reason):
                    if (channel := self._voices.get(turn_id)) is not None:
                        channel.resume()
                    self.stats.count("false_starts")
                    event = {"agent": agent, "task_id": turn_id, "by": by, "reason": reason}
                    self.publish({"type": "resumed", **event})
                case Interrupt():
                    self._spawn(self._interrupt(decision))

    def _time_duck(self, onset: float) -> None:
        """Drops every queued frame so the duck is on the wire next; times onset → wire."""
        watchers = [p.track.drop_queued() for p in self.participants.values()]
        if not watchers:
            return

        async def measure() -> None:
            done, pending = await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
            for watcher in pending:
                watcher.cancel()
            self.stats.observe("bargein", next(iter(done)).result() - onset)

        self._spawn(measure())

    async def _interrupt(self, decision: Interrupt) -> None:
        """Cuts an agent's turn: its task ends ``canceled`` with who and why."""
        self.publish(
            {"type": "interrupted", "agent": decision.agent, "task_id": decision.turn_id,
             "by": decision.by, "kind": decision.kind, "reason": decision.reason}
        )
        await self._cancel_turn(
            decision.agent, decision.turn_id, f"interrupted by {decision.by}", decision.by,
            decision.kind,
        )

    async def _cancel_turn(
        self, agent: str, task_id: str, reason: str, by: str, kind: str
    ) -> None:
        service = self._directory.get(agent)
        if service is None:
            return
        if isinstance(service.executor, DebaterExecutor):
            service.executor.note_cancel_reason(task_id, reason, by=by, kind=kind)
        try:
            await service.cancel(task_id)  # the executor cuts the voice (see ``cut``)
        except A2AError as error:  # it ended on its own meanwhile
            log.debug("turn %s not canceled: %s", task_id, error)
        finally:
            self.cut(task_id, 0.0, None)  # a no-op when the cancel already cut it

    def cut(self, task_id: str, trail: float, kind: str | None) -> None:
        """Stops a voiced turn now, or lets it trail off for ``trail`` seconds; every cut
        with a ``kind`` (human, agent, typed, ...) is counted here, once."""
        channel = self._voices.get(task_id)
        if channel is None or task_id in self._cut:
            return
        self._cut.add(task_id)
        if kind:
            self.stats.count("interruptions", kind=kind)
        if trail > 0 and not channel.paused:
            self._trailing.add(task_id)
            channel.fade(trail)
        else:
            channel.flush()

    # ── turns ──────────────────────────────────────────────────────────────────
    async def say(self, text: str, who: str, typed: bool = True) -> str | None:
        """A person's utterance (spoken or typed) becomes a turn; returns the answering agent
        (None when a running debate takes it up at its next turn boundary)."""
        if typed:
            self._apply(self.floor.arbiter.typed(who))
        if self._reply is not None:  # a newer utterance supersedes an answer still coming
            service, task_id = self._reply
            await self._cancel_turn(service.name, task_id, "superseded", who, "superseded")
        if self._debate is not None and not self._debate.done():
            await self._interject(text, who)
            return None
        personas = [s.persona for n in self.agents if (s := self._directory.get(n))]
        decision = route(text, personas)
        answering = self._directory.get(decision.agent)
        assert answering is not None
        meta = {"room": self.id, "speaker": who}
        self._turn = self._spawn(self._answer(answering, text, meta))
        return decision.agent

    async def _answer(self, service: AgentService, text: str, meta: dict[str, Any]) -> None:
        task_id = ""
        try:
            async for event in service.stream(text, self.context_id, meta):
                if not task_id:
                    task_id = getattr(event, "task_id", "") or getattr(event, "id", "")
                    self._reply = (service, task_id)
        finally:
            if self._reply is not None and self._reply[1] == task_id:
                self._reply = None

    async def _interject(self, text: str, who: str) -> None:
        """Hands the utterance to the running debate; returns once it is queued there."""
        root = self._directory.root
        assert root is not None
        queued: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            meta = {"room": self.id, "speaker": who}
            try:
                async for event in root.stream(text, self.context_id, meta):
                    if not queued.done() and _event_name(event) == "routed":
                        queued.set_result(None)
            finally:
                if not queued.done():
                    queued.set_result(None)

        self._spawn(run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(queued), 10)

    async def start_debate(self, rounds: int | None, interruptions: int | None = None) -> None:
        if self._debate is not None and not self._debate.done():
            self._debate.cancel()
            await self._cancel_debate_task()
        root = self._directory.root
        assert root is not None
        meta: dict[str, Any] = {"room": self.id, "speakers": self.agents, "debate": True}
        if rounds:
            meta["rounds"] = rounds
        if interruptions is not None:
            meta["interruptions"] = interruptions
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.floor.arbiter.new_debate()

        async def run() -> None:
            async for event in root.stream(self.topic, self.context_id, meta):
                if not started.done():
                    started.set_result(getattr(event, "task_id", "") or event.id)
                if _event_name(event) == "bid":
                    self.publish({"type": "bid", **_event_metadata(event)})
            self.publish({"type": "debate_finished"})

        self._debate = self._spawn(run())
        self._debate_task_id = await asyncio.wait_for(started, 10)
        self.publish({"type": "debate_started", "task_id": self._debate_task_id})

    async def _cancel_debate_task(self) -> None:
        root = self._directory.root
        if self._debate_task_id and root is not None:
            with contextlib.suppress(Exception):
                await root.cancel(self._debate_task_id)

    # ── outbound ───────────────────────────────────────────────────────────────
    async def speak(
        self, agent: str, task_id: str, chunks: AsyncIterator[str]
    ) -> AsyncIterator[str]:
        """Voices one agent turn; yields the text as it is heard (see VoiceChannel)."""
        service = self._directory.get(agent)
        voice = service.persona.voice if service else "en-us"
        channel = VoiceChannel(agent)
        self._voices[task_id] = channel
        self.speaking = agent
        self.publish({"type": "turn_started", "agent": agent, "task_id": task_id})

        async def synthesize() -> None:
            try:
                await voice_all()
            finally:
                channel.close()  # also on a failure: the turn ends with what was heard

        async def voice_all() -> None:
            pending = ""
            async for chunk in chunks:
                pending += chunk
                *sentences, pending = _SENTENCE_END.split(pending)
                if channel.idle and not sentences and len(pending.split()) > FIRST_PHRASE_WORDS:
                    # Nothing is playing: start on the first clause, or on the words so far
                    # (all but the last, which may be half a token), not the first sentence.
                    *sentences, pending = _CLAUSE_END.split(pending)
                    if not sentences:
                        head, _, pending = pending.rpartition(" ")
                        sentences = [head]
                for sentence in sentences:
                    await self._voice_sentence(channel, sentence + " ", voice)
            if pending.strip():
                await self._voice_sentence(channel, pending, voice)

        producer = self._spawn(synthesize())
        ended = "completed"
        voiced = False
        try:
            while (piece := await channel.played()) is not None:
                if not voiced:
                    voiced = True
                    self._voice_started(agent, task_id)
                self.publish({"type": "words", "agent": agent, "task_id": task_id, "text": piece})
                yield piece
            if task_id not in self._cut:
                await producer  # surfaces a brain or speech engine failure
        except Exception:
            ended = "failed"
            raise
        except BaseException:  # canceled, or the consumer stopped reading
            ended = "interrupted"
            raise
        finally:
            producer.cancel()
            if task_id in self._cut:
                ended = "interrupted"
            if task_id not in self._trailing:
                channel.flush()
                self._voices.pop(task_id, None)
            self._cut.discard(task_id)
            if self.speaking == agent:
                self.speaking = None
            self.floor.arbiter.agent_ended(task_id)
            self.floor.changed()
            if ended == "completed" and voiced:
                self._last_voice_end = asyncio.get_running_loop().time()
            self.publish({"type": "turn_ended", "agent": agent, "task_id": task_id, "state": ended})

    def _voice_started(self, agent: str, task_id: str) -> None:
        """The turn's first word is on its way out: the agent holds the floor."""
        self.floor.arbiter.agent_started(agent, task_id)
        now = asyncio.get_running_loop().time()
        if self._reply_due is not None:
            self.stats.observe("e2e", now - self._reply_due)
            self._reply_due = None
        elif self._last_voice_end is not None:
            self.stats.observe("turn_gap", now - self._last_voice_end)
        self._last_voice_end = None

    async def _voice_sentence(self, channel: VoiceChannel, text: str, voice: str) -> None:
        try:
            speech = await asyncio.to_thread(self._tts.synthesize, text, voice)
        except Exception as error:  # the turn fails with the reason; the room goes on
            self.publish({"type": "error", "stage": "tts", "message": str(error)})
            raise BrainError(f"text to speech failed: {error}") from error
        channel.enqueue(speech, text)

    async def _clock(self) -> None:
        """Mixes the active voices every 20 ms and feeds every participant's track."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        overlap = 0
        while True:
            mix = np.zeros(OUT_SAMPLES, np.int32)
            audible = 0
            for task_id, channel in list(self._voices.items()):
                pcm = channel.read()
                if pcm is not None:
                    mix += pcm
                    audible += int(np.abs(pcm).max()) > AUDIBLE
                if task_id in self._trailing and channel.drained:
                    self._trailing.discard(task_id)
                    self._voices.pop(task_id, None)
            if audible > 1:
                overlap += 1
            elif overlap:
                self.stats.observe("overlap", overlap * TICK)
                overlap = 0
            frame = mix.clip(-32768, 32767).astype(np.int16)
            for participant in list(self.participants.values()):
                participant.track.push(frame)
            tick += 1
            delay = start + tick * TICK - loop.time()
            if delay < -0.2:  # fell far behind (a stall): resynchronize instead of bursting
                start, tick = loop.time(), 0
                delay = 0
            await asyncio.sleep(max(0.0, delay))


def _event_metadata(event: Any) -> dict[str, Any]:
    status = getattr(event, "status", None)
    if status is None or not event.HasField("metadata"):
        return {}
    return dict(MessageToDict(event.metadata))


def _event_name(event: Any) -> str | None:
    name = _event_metadata(event).get("event")
    return name if isinstance(name, str) else None


class RoomError(Exception):
    status_code = 400


class BadOffer(RoomError):
    status_code = 400


class RoomFull(RoomError):
    status_code = 409
