"""Relays one debater turn into a moderator task: artifacts, turn logs and turn events.

The moderator decides who speaks (``agents.debate.plan``); the relay runs that turn on the
debater's own service and copies what it delivers to every recipient (the debate task, and
the task of a person whose interjection it answers), one artifact per turn.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from a2a.server.tasks import TaskUpdater
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError
from google.protobuf.json_format import MessageToDict

from agents.debate.bidding import TurnBids
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


async def announce(recipients: Sequence[Recipient], metadata: dict[str, Any]) -> None:
    """A ``working`` status update carrying a debate event, to every recipient."""
    for rec in recipients:
        await rec.updater.update_status(pb.TaskState.TASK_STATE_WORKING, metadata=metadata)


def progress_note(event: Any) -> str:
    """The progress note a debater's status update carries ("" for none): not its text."""
    if not isinstance(event, pb.TaskStatusUpdateEvent) or not event.HasField("metadata"):
        return ""
    note = event.metadata.fields.get("progress")
    return note.string_value if note is not None else ""


def text_parts(event: Any) -> list[pb.Part]:
    """The delivered text an event carries (artifact chunks, or streamed status messages;
    never a progress note)."""
    if isinstance(event, pb.TaskArtifactUpdateEvent):
        return [pb.Part(text=p.text) for p in event.artifact.parts if p.text]
    if (
        isinstance(event, pb.TaskStatusUpdateEvent)
        and event.status.state == pb.TaskState.TASK_STATE_WORKING
        and event.status.message.parts
        and not progress_note(event)
    ):
        return [pb.Part(text=p.text) for p in event.status.message.parts if p.text]
    return []


class TurnRelay:
    def __init__(self, directory: AgentDirectory, floors: Floors, deliveries: Deliveries) -> None:
        self._directory = directory
        self._floors = floors
        self._deliveries = deliveries

    def display(self, name: str) -> str:
        service = self._directory.get(name)
        return service.persona.display_name if service else name

    async def run(
        self,
        service: AgentService,
        text: str,
        meta: dict[str, Any],
        recipients: Sequence[Recipient],
        started: Callable[[str], None],
        stage: Delivery | None = None,
        bids: TurnBids | None = None,
        failures: list[str] | None = None,
    ) -> str:
        """Runs one turn on ``service`` and relays it; returns its end state. The turn waits
        for the floor, holds it while it runs, is voiced on ``stage`` (a room) when given,
        and ``bids`` hear its words as they are delivered. ``started`` gets its task id;
        ``failures`` gets "speaker: reason" if the turn failed."""
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
        relayed = False
        turn: Turn | None = None
        try:
            turn = await service.start(text, context_id, meta, message_id, owner)
            turn_id = turn.task_id
            started(turn_id)
            ids = {"speaker": speaker, "turn_task_id": turn_id}
            heading = f"{self.display(speaker)}: "
            for rec in recipients:
                await rec.log.append(f"\n\n{heading}" if rec.log.text else heading)
            await announce(recipients, {"event": "turn_started", **ids})
            async for event in turn.events:
                if note := progress_note(event):
                    await announce(recipients, {"event": "progress", **ids, "text": note})
                parts = text_parts(event)
                if parts:
                    if floor is not None and not relayed:
                        floor.agent_started(speaker, turn_id)  # first word delivered
                    for rec in recipients:
                        await rec.log.append("".join(p.text for p in parts))
                        await rec.updater.add_artifact(
                            parts,
                            artifact_id=f"turn-{turn_id}",
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
                    summary = _turn_ended(event, ids, state)
                    if state == "failed" and failures is not None:
                        failures.append(f"{speaker}: {summary.get('note') or 'no reason given'}")
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
            if failures is not None:
                failures.append(f"{speaker}: {error}")
        finally:
            self._deliveries.release(message_id)
            if turn is None:  # given up before it began (canceled meanwhile): call it off
                self._deliveries.revoke(message_id)
            else:
                await turn.aclose()
            if bids is not None:
                await bids.aclose()
            if floor is not None and turn_id:
                floor.agent_ended(turn_id)
        return state


def _turn_ended(event: pb.TaskStatusUpdateEvent, ids: dict[str, str], state: str) -> dict[str, Any]:
    ended: dict[str, Any] = {"event": "turn_ended", **ids, "state": state}
    note = "".join(p.text for p in event.status.message.parts)
    if note:
        ended["note"] = note
    meta = MessageToDict(event.metadata) if event.HasField("metadata") else {}
    if meta.get("by"):
        ended["by"] = meta["by"]
    return ended
