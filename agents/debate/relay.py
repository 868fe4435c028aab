"""Relays one debater turn into a moderator task: artifacts, turn logs and turn events.

The moderator decides who speaks (``agents.debate.plan``); the relay runs that turn on the
debater's own service and copies what it delivers to every recipient (the debate task, and
the task of a person whose interjection it answers), one artifact per turn.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from a2a.server.tasks import TaskUpdater
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError

from agents import podium_meta
from agents.debate.bidding import TurnBids
from agents.debate.events import DebateEvent, TurnEnded, TurnProgressed, TurnStarted
from agents.delivery import Deliveries, Delivery
from agents.floor.floors import Floors
from agents.owner import conversation_key
from agents.service import AgentDirectory, AgentService, TurnNotStarted
from agents.task_states import terminal_name
from agents.turn import Turn
from agents.turn_log import TurnLog

log = logging.getLogger(__name__)


@dataclass
class Recipient:
    """Where a relayed turn goes: a moderator task's event queue and its readable text log."""

    updater: TaskUpdater
    log: TurnLog

    @property
    def context_id(self) -> str:
        return self.updater.context_id


async def announce(recipients: Sequence[Recipient], event: DebateEvent) -> None:
    """A ``working`` status update carrying a debate event, to every recipient."""
    for rec in recipients:
        await rec.updater.update_status(
            pb.TaskState.TASK_STATE_WORKING, metadata=event.to_metadata()
        )


def text_parts(event: Any) -> list[pb.Part]:
    """The delivered text an event carries (artifact chunks, or streamed status messages;
    never a progress note)."""
    if isinstance(event, pb.TaskArtifactUpdateEvent):
        return [pb.Part(text=p.text) for p in event.artifact.parts if p.text]
    if (
        isinstance(event, pb.TaskStatusUpdateEvent)
        and event.status.state == pb.TaskState.TASK_STATE_WORKING
        and event.status.message.parts
        and not podium_meta.progress_note(event)
    ):
        return [pb.Part(text=p.text) for p in event.status.message.parts if p.text]
    return []


@dataclass(frozen=True)
class TurnResult:
    """How a relayed turn ended: its state, its task (if it began) and, if it failed, why."""

    state: str
    task_id: str = ""
    failure: str | None = None  # "speaker: reason"


class TurnRelay:
    def __init__(self, directory: AgentDirectory, floors: Floors, deliveries: Deliveries) -> None:
        self._directory = directory
        self._floors = floors
        self._deliveries = deliveries
        self.running: dict[str, tuple[AgentService, str]] = {}  # key → (service, turn task)

    def display(self, name: str) -> str:
        service = self._directory.get(name)
        return service.persona.display_name if service else name

    async def run(
        self,
        service: AgentService,
        text: str,
        meta: dict[str, Any],
        recipients: Sequence[Recipient],
        key: str,
        stage: Delivery | None = None,
        bids: TurnBids | None = None,
    ) -> TurnResult:
        """Runs one turn on ``service`` and relays it. The turn waits for the floor, holds
        it while it runs, is voiced on ``stage`` (a room) when given, and ``bids`` hear its
        words as they are delivered. While it runs, ``running[key]`` names it (the moderator
        task it runs for cancels it through that)."""
        context_id = recipients[0].context_id
        owner = recipients[0].log.owner  # the turn runs for whoever the debate runs for
        floor = self._floors.get(conversation_key(owner, context_id))
        if floor is not None and not await floor.wait_for_agents():
            log.info("a person held the floor of %s too long; the debate goes on", context_id)
        message_id = uuid.uuid4().hex
        if stage is not None:
            self._deliveries.claim(message_id, stage)
        speaker = service.name
        turn_id = ""
        state = "failed"
        failure: str | None = None
        relayed = False
        turn: Turn | None = None
        try:
            turn = await service.start(text, context_id, meta, message_id, owner)
            turn_id = turn.task_id
            self.running[key] = (service, turn_id)
            ids = {"speaker": speaker, "turn_task_id": turn_id}
            heading = f"{self.display(speaker)}: "
            for rec in recipients:
                await rec.log.append(f"\n\n{heading}" if rec.log.text else heading)
            await announce(recipients, TurnStarted(speaker, turn_id))
            async for event in turn.events:
                if note := podium_meta.progress_note(event):
                    await announce(recipients, TurnProgressed(speaker, turn_id, note))
                parts = text_parts(event)
                if parts:
                    if floor is not None and not relayed:
                        floor.agent_started(speaker, turn_id)  # first word delivered
                    for rec in recipients:
                        await rec.log.append("".join(p.text for p in parts))
                        await rec.updater.add_artifact(
                            parts,
                            artifact_id=podium_meta.turn_artifact_id(turn_id),
                            name=self.display(speaker),
                            metadata=ids,
                            append=relayed,
                        )
                    relayed = True
                    if bids is not None:
                        bids.heard("".join(p.text for p in parts))
                if isinstance(event, pb.TaskStatusUpdateEvent) and (
                    ended := terminal_name(event.status.state)
                ):
                    state = ended
                    summary = _turn_ended(event, speaker, turn_id, state)
                    if state == "failed":
                        failure = f"{speaker}: {summary.note or 'no reason given'}"
                    await announce(recipients, summary)
        except A2AError as error:
            # A turn that never began because its debate ended meanwhile is routine.
            quiet = isinstance(error, TurnNotStarted)
            log.log(
                logging.INFO if quiet else logging.WARNING,
                "turn on %s could not run: %s",
                speaker,
                error,
            )
            failure = f"{speaker}: {error}"
        finally:
            if turn_id and key in self.running and self.running[key][1] == turn_id:
                del self.running[key]
            self._deliveries.release(message_id)
            if turn is None:  # given up before it began (canceled meanwhile): call it off
                self._deliveries.revoke(message_id)
            else:
                await turn.aclose()
            if bids is not None:
                await bids.aclose()
            if floor is not None and turn_id:
                floor.agent_ended(turn_id)
        return TurnResult(state, turn_id, failure)


def _turn_ended(
    event: pb.TaskStatusUpdateEvent, speaker: str, turn_id: str, state: str
) -> TurnEnded:
    note = "".join(p.text for p in event.status.message.parts)
    by = podium_meta.of_status(event).get("by")
    return TurnEnded(speaker, turn_id, state, note or None, str(by) if by else None)
