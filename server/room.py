"""A voice room: the one place that knows the whole voice path, top to bottom.

inbound   participant track → FrameSlicer (16 kHz, 20 ms) → VadSegmenter → speech events
          + utterance audio → Recognizer (fed while the person speaks) → transcript
turn      transcript → router picks a debater (or the running debate takes it up)
          → A2A task on that debater's service, delivered by voice (RoomVoice below)
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

import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agents.router import route
from agents.service import AgentDirectory
from media.inbound import FrameSlicer, set_jitter_depth
from media.outbound import OUT_SAMPLES, PacedAudioTrack
from media.stt import Recognizer, SpeechToText
from media.tts import TextToSpeech
from media.vad import SpeechStarted, SpeechStopped, VadConfig, VadSegmenter
from media.voice import VoiceChannel

log = logging.getLogger(__name__)
TICK = 0.02
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s")
_CLAUSE_END = re.compile(r"(?<=,)\s")
FIRST_PHRASE_WORDS = 4  # the first phrase is voiced at a comma once it has this many words


@dataclass
class Participant:
    id: str
    name: str
    role: str  # "speaker" or "listener"
    pc: RTCPeerConnection
    track: PacedAudioTrack
    joined: float = field(default_factory=time.time)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role}


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
            "participants": [p.info() for p in self.participants.values()],
        }

    async def close(self) -> None:
        self.state = "closed"
        for task in (self._turn, self._debate):
            if task is not None:
                task.cancel()
        await self._cancel_debate_task()
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

    async def leave(self, participant_id: str) -> None:
        participant = self.participants.pop(participant_id, None)
        if participant is None:
            return
        for task in participant.tasks:
            task.cancel()
        participant.track.stop()
        await participant.pc.close()
        self.publish({"type": "participant_left", **participant.info()})

    # ── inbound ────────────────────────────────────────────────────────────────
    async def _listen(self, participant: Participant, track: MediaStreamTrack) -> None:
        slicer = FrameSlicer()
        segmenter = VadSegmenter(self._vad)
        stream_time = 0.0
        recognizer: Recognizer | None = None
        feed: asyncio.Queue[np.ndarray | None] | None = None
        stt_task: asyncio.Task[str] | None = None
        try:
            while True:
                frame = await track.recv()
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
                                recognizer = self._stt.recognizer()
                                feed = asyncio.Queue()
                                stt_task = self._spawn(
                                    self._recognize(participant, recognizer, feed)
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
                                if feed is not None and stt_task is not None:
                                    feed.put_nowait(None)
                                    self._spawn(self._after_utterance(participant, stt_task))
                                feed, stt_task = None, None
                    if feed is not None and segmenter.speaking:
                        feed.put_nowait(pcm)
        except MediaStreamError:
            log.info("participant %s stopped sending audio", participant.id)
        finally:
            if feed is not None:
                feed.put_nowait(None)

    async def _recognize(
        self, participant: Participant, recognizer: Recognizer, feed: asyncio.Queue[Any]
    ) -> str:
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
        try:
            text = (await stt).strip()
        except Exception as error:  # an engine failure is an event, never a dead room
            log.exception("speech recognition failed")
            self.publish({"type": "error", "stage": "stt", "message": str(error)})
            return
        self.publish({"type": "transcript", "final": True, "text": text, "who": participant.name})
        if text:
            await self.say(text, participant.name)

    # ── turns ──────────────────────────────────────────────────────────────────
    async def say(self, text: str, who: str) -> str | None:
        """A person's utterance (spoken or typed) becomes a turn; returns the answering agent."""
        if self._debate is not None and not self._debate.done():
            root = self._directory.root
            assert root is not None
            self._spawn(self._drain(root.stream(text, self.context_id, {"room": self.id})))
            return None
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()  # a person speaking over an agent takes the floor
        personas = [s.persona for n in self.agents if (s := self._directory.get(n))]
        decision = route(text, personas)
        service = self._directory.get(decision.agent)
        assert service is not None
        meta = {"room": self.id, "speaker": who}
        self._turn = self._spawn(self._drain(service.stream(text, self.context_id, meta)))
        return decision.agent

    async def _drain(self, events: AsyncIterator[Any]) -> None:
        async for _ in events:
            pass

    async def start_debate(self, rounds: int | None) -> None:
        if self._debate is not None and not self._debate.done():
            self._debate.cancel()
            await self._cancel_debate_task()
        root = self._directory.root
        assert root is not None
        meta: dict[str, Any] = {"room": self.id, "speakers": self.agents, "debate": True}
        if rounds:
            meta["rounds"] = rounds
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            async for event in root.stream(self.topic, self.context_id, meta):
                if not started.done():
                    started.set_result(getattr(event, "task_id", "") or event.id)
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
            pending = ""
            async for chunk in chunks:
                pending += chunk
                *sentences, pending = _SENTENCE_END.split(pending)
                if channel.idle and not sentences and len(pending.split()) >= FIRST_PHRASE_WORDS:
                    # Nothing is playing yet: start on the first clause, not the first sentence.
                    *sentences, pending = _CLAUSE_END.split(pending)
                for sentence in sentences:
                    await self._voice_sentence(channel, sentence + " ", voice)
            if pending.strip():
                await self._voice_sentence(channel, pending, voice)
            channel.close()

        producer = self._spawn(synthesize())
        ended = "completed"
        try:
            while (piece := await channel.played()) is not None:
                self.publish({"type": "words", "agent": agent, "task_id": task_id, "text": piece})
                yield piece
            await producer  # surfaces a brain failure
        except BaseException:
            ended = "interrupted"
            raise
        finally:
            producer.cancel()
            channel.flush()
            self._voices.pop(task_id, None)
            if self.speaking == agent:
                self.speaking = None
            self.publish({"type": "turn_ended", "agent": agent, "task_id": task_id, "state": ended})

    async def _voice_sentence(self, channel: VoiceChannel, text: str, voice: str) -> None:
        try:
            speech = await asyncio.to_thread(self._tts.synthesize, text, voice)
        except Exception as error:
            self.publish({"type": "error", "stage": "tts", "message": str(error)})
            raise
        channel.enqueue(speech, text)

    async def _clock(self) -> None:
        """Mixes the active voices every 20 ms and feeds every participant's track."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        while True:
            mix = np.zeros(OUT_SAMPLES, np.int32)
            for channel in list(self._voices.values()):
                pcm = channel.read()
                if pcm is not None:
                    mix += pcm
            frame = mix.clip(-32768, 32767).astype(np.int16)
            for participant in list(self.participants.values()):
                participant.track.push(frame)
            tick += 1
            delay = start + tick * TICK - loop.time()
            if delay < -0.2:  # fell far behind (a stall): resynchronize instead of bursting
                start, tick = loop.time(), 0
                delay = 0
            await asyncio.sleep(max(0.0, delay))


class RoomError(Exception):
    status_code = 400


class BadOffer(RoomError):
    status_code = 400


class RoomFull(RoomError):
    status_code = 409
