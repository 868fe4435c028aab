"""The moderator (root agent): runs debates between debaters, turn by turn, as A2A tasks.

A message to the moderator starts a debate on its text. Each debater turn is a task on that
debater's own service; the moderator relays its chunks as artifacts of the debate task (one
artifact per turn, ``speaker`` and ``turn_task_id`` in metadata). A message sent into the
context of a running debate is routed to the best-suited debater, who answers it at the next
turn boundary; once a debate is over, follow-ups in its context are routed the same way.

Turns take the floor through the context's arbiter: while a debater speaks, the others bid
to cut in (see ``agents.bidding``), and a granted bid cancels the turn (reason and interrupter
in its metadata) and gives the floor to the interrupter. Voice debates are paced by speech;
text debates by a words-per-minute speaking clock, so text clients see interruptions too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError
from google.protobuf.json_format import MessageToDict

from agents.arbiter import Interrupt
from agents.bidding import Bidder, Rival, TurnBids
from agents.executor import DebaterExecutor, open_task, podium_metadata
from agents.floor import Floor, Floors
from agents.router import route
from agents.service import AgentDirectory, AgentService
from agents.settled_store import STATE_NAMES
from agents.transcript import Transcript
from agents.turn_log import TurnLog, TurnLogs

log = logging.getLogger(__name__)

PASSTHROUGH = ("room",)  # metadata a debate hands on to every turn it runs


@dataclass
class Listener:
    """Where a relayed turn goes: a moderator task's event queue and its readable text log."""

    updater: TaskUpdater
    log: TurnLog

    @property
    def context_id(self) -> str:
        return self.updater.context_id


@dataclass
class Interjection:
    text: str
    agent: str
    listener: Listener
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass
class Debate:
    context_id: str
    topic: str
    order: tuple[str, ...]
    rounds: int
    task_id: str
    passthrough: dict[str, Any] = field(default_factory=dict)  # e.g. the voice room
    floor: Floor | None = None
    wpm: float = 0.0  # the text speaking clock (0 in voice rooms: speech paces them)
    running: bool = True
    pending: list[Interjection] = field(default_factory=list)


class ModeratorExecutor(AgentExecutor):
    def __init__(
        self,
        directory: AgentDirectory,
        transcript: Transcript,
        turn_logs: TurnLogs,
        floors: Floors,
        rounds: int = 2,
        order: Sequence[str] = (),
        text_wpm: float = 0.0,
    ) -> None:
        self._floors = floors
        self._text_wpm = text_wpm
        self._directory = directory
        self._transcript = transcript
        self._turn_logs = turn_logs
        self._rounds = rounds
        self._order = tuple(order)
        self._debates: dict[str, Debate] = {}
        self._running_turns: dict[str, tuple[AgentService, str]] = {}

    # ── entry ──────────────────────────────────────────────────────────────────
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        context_id = context.context_id or ""
        await open_task(context, event_queue)
        listener = Listener(
            TaskUpdater(event_queue, task_id, context_id),
            self._turn_logs.open(task_id, "moderator", context_id),
        )
        text = context.get_user_input().strip()
        meta = podium_metadata(context.message)
        debate = self._debates.get(context_id)
        try:
            if debate is not None and debate.running:
                await self._interject(debate, text, listener)
            elif debate is not None and not meta.get("debate"):
                await self._answer(context_id, text, listener, task_id)
            else:
                await self._run_debate(context_id, text, meta, listener, task_id)
        finally:
            self._running_turns.pop(task_id, None)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        running = self._running_turns.pop(task_id, None)
        if running is not None:
            service, turn_id = running
            try:
                await service.cancel(turn_id)
            except A2AError as error:  # the turn may have ended on its own meanwhile
                log.debug("turn %s not canceled: %s", turn_id, error)
        debate = self._debates.get(context.context_id or "")
        if debate is not None and debate.running and debate.task_id == task_id:
            debate.running = False
        updater = TaskUpdater(event_queue, task_id, context.context_id or "")
        await updater.update_status(
            pb.TaskState.TASK_STATE_CANCELED,
            message=updater.new_agent_message([pb.Part(text="Debate canceled.")]),
        )

    # ── debate ─────────────────────────────────────────────────────────────────
    async def _run_debate(
        self,
        context_id: str,
        topic: str,
        meta: dict[str, Any],
        listener: Listener,
        task_id: str,
    ) -> str:
        updater = listener.updater
        order = tuple(str(n).lower() for n in meta.get("speakers") or self._order) or tuple(
            s.name for s in self._directory.debaters
        )
        unknown = [n for n in order if self._directory.get(n) is None or n == "moderator"]
        rounds = int(meta.get("rounds") or self._rounds)
        if not topic or unknown or not 1 <= rounds <= 20 or len(order) < 1:
            reason = (
                f"unknown debaters: {', '.join(unknown)}"
                if unknown
                else "send a topic (text) and 1 to 20 rounds"
            )
            await updater.update_status(
                pb.TaskState.TASK_STATE_REJECTED,
                message=updater.new_agent_message([pb.Part(text=reason)]),
            )
            return "rejected"
        passthrough = {k: meta[k] for k in PASSTHROUGH if k in meta}
        in_room = "room" in passthrough
        wpm = 0.0 if in_room else float(meta.get("wpm", self._text_wpm) or 0)
        floor = self._floors.open(context_id)
        budget = meta.get("interruptions")
        floor.arbiter.new_debate(int(budget) if isinstance(budget, int | float) else None)
        if wpm:
            passthrough["wpm"] = wpm
        debate = Debate(context_id, topic, order, rounds, task_id, passthrough, floor, wpm)
        self._debates[context_id] = debate
        names = " vs ".join(self._display(n) for n in order)
        await updater.update_status(
            pb.TaskState.TASK_STATE_WORKING,
            message=updater.new_agent_message(
                [pb.Part(text=f"Debate: {topic} ({names}, {rounds} rounds)")]
            ),
            metadata={"event": "debate_started", "topic": topic, "speakers": list(order)},
        )
        try:
            following = 0  # index in ``order`` of who speaks next
            cut_in: dict[str, str] = {}
            for turn in range(rounds * len(order)):
                await self._serve_interjections(debate, task_id, listener)
                if not debate.running:
                    return "canceled"
                name = cut_in.get("agent") or order[following]
                following = (order.index(name) + 1) % len(order)
                service = self._directory.get(name)
                assert service is not None
                cue = {"cue": True, "topic": topic, "round": turn // len(order) + 1, **passthrough}
                if cut_in:
                    cue |= {"cut_in": cut_in["heard"], "interrupting": cut_in["over"]}
                bids = self._bidding(debate, service, [listener])
                await self._relay_turn(service, topic, cue, task_id, [listener], bids)
                granted = bids.granted if bids else None
                cut_in = (
                    {"agent": granted.by, "heard": bids.cut_after, "over": name}
                    if granted and bids
                    else {}
                )
            await self._serve_interjections(debate, task_id, listener)
        finally:
            debate.running = False
            for late in debate.pending:
                if not late.done.done():
                    late.done.set_result("debate ended")
            if not in_room:
                self._floors.close(context_id)
        await updater.update_status(
            pb.TaskState.TASK_STATE_COMPLETED,
            message=updater.new_agent_message([pb.Part(text="Debate finished.")]),
            metadata={"event": "debate_finished"},
        )
        return "completed"

    async def _serve_interjections(self, debate: Debate, task_id: str, listener: Listener) -> None:
        while debate.pending and debate.running:
            interjection = debate.pending.pop(0)
            service = self._directory.get(interjection.agent)
            assert service is not None
            meta = {"speaker": "user", "topic": debate.topic, **debate.passthrough}
            state = await self._relay_turn(
                service, interjection.text, meta, task_id, [listener, interjection.listener]
            )
            if not interjection.done.done():
                interjection.done.set_result(state)

    async def _interject(self, debate: Debate, text: str, listener: Listener) -> str:
        updater = listener.updater
        decision = route(text, self._personas(debate.order), await self._recent(debate.context_id))
        interjection = Interjection(text, decision.agent, listener)
        debate.pending.append(interjection)
        await updater.update_status(
            pb.TaskState.TASK_STATE_WORKING,
            message=updater.new_agent_message(
                [pb.Part(text=f"{self._display(decision.agent)} will answer next.")]
            ),
            metadata={"event": "routed", "agent": decision.agent, "reason": decision.reason},
        )
        state = await interjection.done
        return await self._finish_like(updater, state)

    async def _answer(self, context_id: str, text: str, listener: Listener, task_id: str) -> str:
        updater = listener.updater
        debaters = [s.persona for s in self._directory.debaters]
        decision = route(text, debaters, await self._recent(context_id))
        service = self._directory.get(decision.agent)
        assert service is not None
        await updater.update_status(
            pb.TaskState.TASK_STATE_WORKING,
            metadata={"event": "routed", "agent": decision.agent, "reason": decision.reason},
        )
        state = await self._relay_turn(service, text, {"speaker": "user"}, task_id, [listener])
        return await self._finish_like(updater, state)

    # ── relaying one debater turn ─────────────────────────────────────────────
    def _bidding(
        self, debate: Debate, service: AgentService, listeners: Sequence[Listener]
    ) -> TurnBids | None:
        """The others' bids during ``service``'s turn (None when nobody can bid)."""
        if debate.floor is None:
            return None
        rivals = []
        for name in debate.order:
            rival = self._directory.get(name)
            brain = getattr(rival.executor, "brain", None) if rival else None
            if rival and name != service.name and isinstance(brain, Bidder):
                rivals.append(Rival(name, rival.persona, brain))
        if not rivals:
            return None

        async def announce(event: dict[str, Any]) -> None:
            await self._announce(listeners, event)

        return TurnBids(debate.floor, service.name, debate.topic, rivals, announce, self._cut)

    async def _cut(self, decision: Interrupt) -> None:
        """A granted bid: the speaker's turn ends ``canceled``, naming the interrupter."""
        service = self._directory.get(decision.agent)
        if service is None:
            return
        if isinstance(service.executor, DebaterExecutor):
            service.executor.note_cancel_reason(
                decision.turn_id,
                f"interrupted by {self._display(decision.by)}",
                by=decision.by,
                kind=decision.kind,
                trail=decision.overlap,
            )
        try:
            await service.cancel(decision.turn_id)
        except A2AError as error:  # it ended on its own meanwhile
            log.debug("turn %s not cut: %s", decision.turn_id, error)

    async def _relay_turn(
        self,
        service: AgentService,
        text: str,
        meta: dict[str, Any],
        owner_task_id: str,
        listeners: Sequence[Listener],
        bids: TurnBids | None = None,
    ) -> str:
        """Runs one turn on ``service`` and relays it to ``listeners``; returns its end state.
        In a debate, the turn waits for the floor, holds it while it runs, and ``bids`` hear
        its words as they are delivered."""
        context_id = listeners[0].context_id
        floor = self._floors.get(context_id)
        if floor is not None and not await floor.wait_for_agents():
            log.info("a person held the floor of %s too long; the debate goes on", context_id)
        turn_id = ""
        state = "failed"
        speaker = service.name
        turn: dict[str, str] = {"speaker": speaker, "turn_task_id": ""}
        relayed = False
        try:
            async for event in service.stream(text, context_id, meta):
                if isinstance(event, pb.Task):
                    continue
                if not turn_id:
                    turn_id = event.task_id
                    self._running_turns[owner_task_id] = (service, turn_id)

                    turn = {"speaker": speaker, "turn_task_id": turn_id}
                    heading = f"{self._display(speaker)}: "
                    for lis in listeners:
                        await lis.log.append(f"\n\n{heading}" if lis.log.text else heading)
                    await self._announce(listeners, {"event": "turn_started", **turn})
                parts = self._text_parts(event)
                if parts:
                    if floor is not None and not relayed:
                        floor.arbiter.agent_started(speaker, turn_id)  # first word delivered
                    for lis in listeners:
                        await lis.log.append("".join(p.text for p in parts))
                        await lis.updater.add_artifact(
                            parts,
                            artifact_id=f"turn-{turn_id}",
                            name=self._display(speaker),
                            metadata=turn,
                            append=relayed,
                        )
                    relayed = True
                    if bids is not None:
                        bids.heard("".join(p.text for p in parts))
                if (
                    isinstance(event, pb.TaskStatusUpdateEvent)
                    and event.status.state in STATE_NAMES
                ):
                    state = STATE_NAMES[event.status.state]
                    note = "".join(p.text for p in event.status.message.parts)
                    ended = {"event": "turn_ended", **turn, "state": state}
                    meta_ = MessageToDict(event.metadata) if event.HasField("metadata") else {}
                    by = meta_.get("by")
                    if by:
                        ended["by"] = by
                    await self._announce(listeners, ended | ({"note": note} if note else {}))
        except A2AError as error:
            log.warning("turn on %s could not run: %s", speaker, error)
        finally:
            self._running_turns.pop(owner_task_id, None)
            if bids is not None:
                await bids.aclose()
            if floor is not None and turn_id:
                floor.arbiter.agent_ended(turn_id)
                floor.changed()
        return state

    @staticmethod
    async def _announce(listeners: Sequence[Listener], metadata: dict[str, Any]) -> None:
        """A ``working`` status update carrying a debate event, to every listener."""
        for lis in listeners:
            await lis.updater.update_status(pb.TaskState.TASK_STATE_WORKING, metadata=metadata)

    @staticmethod
    def _text_parts(event: Any) -> list[pb.Part]:
        if isinstance(event, pb.TaskArtifactUpdateEvent):
            return [pb.Part(text=p.text) for p in event.artifact.parts if p.text]
        if (
            isinstance(event, pb.TaskStatusUpdateEvent)
            and event.status.state == pb.TaskState.TASK_STATE_WORKING
            and event.status.message.parts
        ):
            return [pb.Part(text=p.text) for p in event.status.message.parts if p.text]
        return []

    async def _finish_like(self, updater: TaskUpdater, state: str) -> str:
        if state == "completed":
            await updater.complete()
            return "completed"
        await updater.update_status(
            pb.TaskState.TASK_STATE_FAILED,
            message=updater.new_agent_message([pb.Part(text=f"the answer ended {state}")]),
        )
        return "failed"

    # ── helpers ───────────────────────────────────────────────────────────────
    def _display(self, name: str) -> str:
        service = self._directory.get(name)
        return service.persona.display_name if service else name

    def _personas(self, names: Sequence[str]) -> list[Any]:
        return [s.persona for n in names if (s := self._directory.get(n)) is not None]

    async def _recent(self, context_id: str) -> list[str]:
        return [u.speaker for u in await self._transcript.history(context_id)]
