"""One agent turn as one A2A task: brain text → delivered chunks → task events.

Every turn, whether an A2A client asked, a text SSE client asked, the moderator cued it in a
debate or a person spoke in a room, runs here. The brain's text passes through the turn's
:class:`~agents.delivery.Delivery` (immediate for text; paced by speech in voice rooms), and
only delivered text reaches the task's artifact, the turn log and the conversation's history.
A turn ends ``canceled`` two ways, each with its :class:`~agents.turn.CancelReason`: a cancel
through the SDK carries it in the call context (and stops the delivery), or the delivery was
stopped where it plays (a person barged in) and says why when its text ends (``stopped``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from a2a.helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import a2a_pb2 as pb

from agents import podium_meta
from agents.audio_parts import SpokenAnswer, Voicer
from agents.brains.brain import Brain, BrainError, BrainRequest, ProgressNoted, Said, Utterance
from agents.coalesce import Coalescer
from agents.delivery import Deliveries, Delivery, DeliveryError, TurnInfo
from agents.owner import conversation_key, owner_of
from agents.persona import Persona, StreamMode
from agents.transcript import Transcript
from agents.turn import CancelReason, is_followed, is_new_context
from agents.turn_log import TurnLog, TurnLogs

log = logging.getLogger(__name__)

CALLED_OFF = "the turn was called off: its debate ended as it began"


async def open_task(context: RequestContext, event_queue: EventQueue) -> None:
    """Publishes the task (``submitted``) when this message starts a new one."""
    if context.current_task is None:
        task = new_task(
            context.task_id or "",
            context.context_id or "",
            pb.TaskState.TASK_STATE_SUBMITTED,
            history=[context.message] if context.message else None,
        )
        await event_queue.enqueue_event(task)


class DebaterExecutor(AgentExecutor):
    """Runs turns for one persona."""

    def __init__(
        self,
        persona: Persona,
        brain: Brain,
        transcript: Transcript,
        turn_logs: TurnLogs,
        deliveries: Deliveries,
    ) -> None:
        self.persona = persona
        self.brain = brain
        self._transcript = transcript
        self._turn_logs = turn_logs
        self._deliveries = deliveries
        self._stopping: set[str] = set()  # canceled through the SDK
        # ending canceled on their own (delivery stopped): set once that end is in the queue
        self._ending: dict[str, asyncio.Event] = {}
        self._held: dict[str, Coalescer] = {}  # per running turn: text not yet in its task
        self.voicer: Voicer | None = None  # speaks answers to clients that accept audio

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        context_id = context.context_id or ""
        owner = owner_of(context.call_context)
        # Opened before the task shows.
        turn = self._turn_logs.open(task_id, self.persona.name, context_id, owner)
        message_id = context.message.message_id if context.message else ""
        # Bound before the task shows: the starter's claim lasts only until the task exists.
        delivery = self._deliveries.open(message_id, task_id)
        try:
            await self._run(context, event_queue, turn, delivery)
        finally:
            if (ended := self._ending.pop(task_id, None)) is not None:
                ended.set()
            self._deliveries.close(task_id, message_id)

    async def _run(
        self, context: RequestContext, event_queue: EventQueue, turn: TurnLog, delivery: Delivery
    ) -> None:
        task_id = context.task_id or ""
        context_id = context.context_id or ""
        message_id = context.message.message_id if context.message else ""
        await open_task(context, event_queue)
        updater = TaskUpdater(event_queue, task_id, context_id)
        if self._deliveries.revoked(message_id):  # its starter gave up as it began
            await self._call_off(updater, "")
            return
        meta = podium_meta.of_message(context.message)
        prompt = context.get_user_input()
        # The caller's own conversation: another principal's context of the same id is apart.
        conversation = conversation_key(turn.owner, context_id)
        new = is_new_context(context.call_context)  # no history to read: none was written
        history = () if new else await self._transcript.history(conversation)
        if not meta.get("cue"):
            # A person (or client) spoke; the moderator's cues are instructions, not turns.
            speaker = str(meta.get("speaker") or "user")
            await self._transcript.append(conversation, Utterance(speaker, prompt), task_id)
            history = (*history, Utterance(speaker, prompt))
        request = BrainRequest(
            persona=self.persona,
            prompt=prompt,
            history=history,
            topic=meta.get("topic"),
            context_id=context_id,
            turn_index=sum(1 for u in history if u.speaker == self.persona.name),
            cut_in=str(meta["cut_in"]) if meta.get("cut_in") else None,
            interrupting=str(meta["interrupting"]) if meta.get("interrupting") else None,
        )
        speaker_meta = {"speaker": self.persona.name, "brain": self.brain.label}
        await updater.update_status(pb.TaskState.TASK_STATE_WORKING, metadata=speaker_meta)

        artifact_id = f"{task_id}-reply"
        delivered: list[str] = []
        wpm = meta.get("wpm")
        info = TurnInfo(self.persona.name, task_id, wpm if isinstance(wpm, float) else 0.0)
        clock = asyncio.get_running_loop().time
        followed = is_followed(context.call_context)  # followed as it goes: first words at once
        every = delivery.update_every(info)
        held = self._held[task_id] = Coalescer(clock, every, first_at_once=followed)
        speaking = self._spoken_answer(updater, context, task_id, speaker_meta)
        try:
            reply = self._answer_only(self.brain.stream(request), updater, delivery, info)
            async for chunk in delivery.deliver(info, reply):
                if task_id in self._stopping or self._deliveries.revoked(message_id):
                    break
                delivered.append(chunk)
                if speaking is not None:
                    speaking.push(chunk)
                await turn.append(chunk)
                if task_id in self._stopping:  # canceled meanwhile: its cancel sends the rest
                    break
                if (text := held.push(chunk)) is not None:
                    await self._emit(updater, artifact_id, text, first=held.sent == 1)
            if task_id not in self._stopping and (text := held.take()) is not None:
                await self._emit(updater, artifact_id, text, first=held.sent == 1)
        except (BrainError, DeliveryError) as error:
            log.warning("turn %s of %s failed: %s", task_id, self.persona.name, error)
            if speaking is not None:
                await speaking.close()
            if (text := held.take()) is not None:  # what was heard before it failed
                await self._emit(updater, artifact_id, text, first=held.sent == 1)
            await self._remember(conversation, delivered, task_id, interrupted=True)
            await updater.update_status(
                pb.TaskState.TASK_STATE_FAILED,
                message=updater.new_agent_message([pb.Part(text=str(error))]),
                metadata={**speaker_meta, "error": str(error)},
            )
            return
        except asyncio.CancelledError:
            if speaking is not None:
                speaking.abandon()
            await asyncio.shield(self._settle_canceled(task_id, conversation, delivered))
            raise
        finally:
            self._held.pop(task_id, None)
        ended_early = task_id in self._stopping or delivery.stopped(task_id)
        if speaking is not None and (ended_early or self._deliveries.revoked(message_id)):
            await speaking.close()  # cut or canceled: what was voiced stays, no more
            speaking = None
        if task_id in self._stopping:
            await self._settle_canceled(task_id, conversation, delivered)
            return
        await self._add_heard_audio(updater, delivery, task_id, speaker_meta)
        if (why := delivery.stopped(task_id)) is not None:  # cut where it was playing
            self._ending[task_id] = asyncio.Event()  # a cancel now waits for this end (set
            await self._remember(conversation, delivered, task_id, interrupted=True)  # as
            await self._end_canceled(updater, task_id, why, held)  # ``execute`` returns)
            return
        if self._deliveries.revoked(message_id):
            await self._remember(conversation, delivered, task_id, interrupted=True)
            rest = held.take() or ""
            await self._call_off(updater, rest, artifact_id, first=held.sent == 1)
            return
        text = "".join(delivered)
        if speaking is not None:
            await speaking.finish()
        if self.persona.stream_mode == StreamMode.MESSAGE:
            await updater.add_artifact(
                [pb.Part(text=text)], artifact_id=artifact_id, name="reply", metadata=speaker_meta
            )
        await self._remember(conversation, delivered, task_id, interrupted=False)
        await updater.update_status(pb.TaskState.TASK_STATE_COMPLETED, metadata=speaker_meta)

    def _spoken_answer(
        self, updater: TaskUpdater, context: RequestContext, task_id: str, meta: dict[str, str]
    ) -> SpokenAnswer | None:
        """A client that accepts audio gets the answer spoken too, phrase by phrase."""
        config = context.configuration
        accepted = list(config.accepted_output_modes) if config is not None else []
        if self.voicer is None or not any(m.lower().startswith("audio/") for m in accepted):
            return None

        async def emit(part: pb.Part, append: bool) -> None:
            await updater.add_artifact(
                [part], artifact_id=f"{task_id}-speech", name="speech", append=append, metadata=meta
            )

        return SpokenAnswer(self.voicer, self.persona.voice, accepted, emit, task_id)

    async def _add_heard_audio(
        self, updater: TaskUpdater, delivery: Delivery, task_id: str, meta: dict[str, str]
    ) -> None:
        """A voiced turn in a recorded room: its audio, as heard, as an artifact."""
        if (audio := delivery.heard(task_id)) is None:
            return
        part = pb.Part(url=audio.url, media_type=audio.media_type, filename=audio.filename)
        await updater.add_artifact(
            [part], artifact_id=f"{task_id}-audio", name="audio", metadata=meta
        )

    async def _call_off(
        self, updater: TaskUpdater, held: str, artifact_id: str = "", first: bool = True
    ) -> None:
        """Ends the turn ``canceled``: its starter gave up on it (see ``Deliveries.revoke``)."""
        if held:  # delivered before it was called off
            await self._emit(updater, artifact_id, held, first=first)
        await updater.update_status(
            pb.TaskState.TASK_STATE_CANCELED,
            message=updater.new_agent_message([pb.Part(text=CALLED_OFF)]),
            metadata={"speaker": self.persona.name},
        )

    async def _answer_only(
        self, said: AsyncIterator[Said], updater: TaskUpdater, delivery: Delivery, info: TurnInfo
    ) -> AsyncIterator[str]:
        """The reply text; progress notes go to the task's status and the audience's view."""
        async for item in said:
            if isinstance(item, ProgressNoted):
                delivery.progress(info, item.text)
                meta = {"speaker": self.persona.name, "progress": item.text}
                message = None
                if self.persona.stream_mode != StreamMode.MESSAGE:  # there, messages are the reply
                    message = updater.new_agent_message([pb.Part(text=item.text)], metadata=meta)
                await updater.update_status(
                    pb.TaskState.TASK_STATE_WORKING, message=message, metadata=meta
                )
            else:
                yield item

    async def _emit(self, updater: TaskUpdater, artifact_id: str, chunk: str, first: bool) -> None:
        speaker_meta = {"speaker": self.persona.name}
        if self.persona.stream_mode == StreamMode.MESSAGE:
            await updater.update_status(
                pb.TaskState.TASK_STATE_WORKING,
                message=updater.new_agent_message([pb.Part(text=chunk)], metadata=speaker_meta),
            )
        else:
            await updater.add_artifact(
                [pb.Part(text=chunk)],
                artifact_id=artifact_id,
                name="reply",
                metadata=speaker_meta,
                append=not first,
            )

    async def _remember(
        self, conversation: str, delivered: list[str], task_id: str, interrupted: bool
    ) -> None:
        text = "".join(delivered).strip()
        if text:
            utterance = Utterance(self.persona.name, text, interrupted=interrupted)
            await self._transcript.append(conversation, utterance, task_id)

    async def _settle_canceled(self, task_id: str, conversation: str, delivered: list[str]) -> None:
        self._stopping.discard(task_id)
        await self._remember(conversation, delivered, task_id, interrupted=True)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        if (ended := self._ending.get(task_id)) is not None:
            # Its own end (canceled) is on its way to the queue: the SDK cancels the producer
            # once this returns, which would cut that end off before it is written and leave
            # the cancel waiting for a terminal state forever. Return once it is written.
            await ended.wait()
            return
        self._stopping.add(task_id)
        delivery = self._deliveries.of_task(task_id)
        # Stopped where it plays already (a barge-in): that first reason is the turn's, not a
        # later cancel's (a newer utterance superseding the reply the person cut).
        why = delivery.stopped(task_id) or CancelReason.of(context.call_context)
        delivery.stop(task_id, why)
        updater = TaskUpdater(event_queue, task_id, context.context_id or "")
        await self._end_canceled(updater, task_id, why, self._held.pop(task_id, None))

    async def _end_canceled(
        self, updater: TaskUpdater, task_id: str, why: CancelReason, held: Coalescer | None
    ) -> None:
        """Sends what was heard before the cut, then the ``canceled`` status saying why."""
        if held is not None and (text := held.take()) is not None:
            await self._emit(updater, f"{task_id}-reply", text, first=held.sent == 1)
        await updater.update_status(
            why.state,  # type: ignore[arg-type]  # the enum's values are its ints
            message=updater.new_agent_message([pb.Part(text=why.reason)], metadata=why.metadata()),
            metadata={"speaker": self.persona.name, **why.metadata()},
        )
