"""The moderator (root agent): runs debates between debaters, turn by turn, as A2A tasks.

A message to the moderator starts a debate on its text. Each debater turn is a task on that
debater's own service, relayed as an artifact of the debate task (``agents.debate.relay``); who
speaks next is the debate plan's decision (``agents.debate.plan``). A message sent into the
context of a running debate is routed to the best-suited debater, who answers it at the next
turn boundary; once a debate is over, follow-ups in its context are routed the same way.

Turns take the floor through the context's arbiter: while a debater speaks, the others bid
to cut in (``agents.debate.bidding``), and a granted bid cancels the turn (reason and interrupter in
its metadata) and gives the next turn to the interrupter. A debate started by a voice room
(its message claimed with the room's delivery) is voiced there; text debates are paced by a
words-per-minute speaking clock, so text clients see interruptions too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import a2a_pb2 as pb

from agents import podium_meta
from agents.debate.bidding import Bidder, Rival, TurnBids
from agents.debate.events import DebateEvent, DebateFinished, DebateStarted, Routed
from agents.debate.guests import GuestRefused, Guests, is_url
from agents.debate.plan import DebatePlan
from agents.debate.relay import Recipient, TurnRelay, announce
from agents.debate.router import route
from agents.delivery import Deliveries, Delivery
from agents.executor import open_task
from agents.floor.arbiter import Interrupt
from agents.floor.floors import Floor, Floors
from agents.owner import conversation_key, owner_of
from agents.persona import Persona
from agents.service import AgentDirectory, AgentService
from agents.transcript import Transcript
from agents.turn import CancelReason
from agents.turn_log import TurnLogs

log = logging.getLogger(__name__)


@dataclass
class Interjection:
    text: str
    agent: str
    recipient: Recipient
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass
class Debate:
    context_id: str
    topic: str
    plan: DebatePlan
    task_id: str
    floor: Floor
    stage: Delivery | None = None  # the voice room it runs in
    wpm: float = 0.0  # the text speaking clock (0 in voice rooms: speech paces them)
    running: bool = True
    pending: list[Interjection] = field(default_factory=list)
    # the interjection being answered now, and who its turn is relayed to
    serving: tuple[Interjection, list[Recipient]] | None = None


class ModeratorExecutor(AgentExecutor):
    def __init__(
        self,
        directory: AgentDirectory,
        transcript: Transcript,
        turn_logs: TurnLogs,
        floors: Floors,
        deliveries: Deliveries,
        rounds: int = 2,
        order: Sequence[str] = (),
        text_wpm: float = 0.0,
    ) -> None:
        self._floors = floors
        self._deliveries = deliveries
        self._text_wpm = text_wpm
        self._directory = directory
        self._transcript = transcript
        self._turn_logs = turn_logs
        self._rounds = rounds
        self._order = tuple(order)
        self._relay = TurnRelay(directory, floors, deliveries)
        self._debates: dict[str, Debate] = {}
        self.guests: Guests | None = None  # invites speakers named by card URL (None: refused)

    # ── entry ──────────────────────────────────────────────────────────────────
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        owner = owner_of(context.call_context)
        log_ = self._turn_logs.open(task_id, "moderator", context.context_id or "", owner)
        # Debates, floors and history are the caller's own: keyed by owner and context.
        context_id = conversation_key(owner, context.context_id or "")
        # Taken before the task shows: the starter's claim lasts only until the task exists.
        stage = self._deliveries.take(context.message.message_id if context.message else "")
        await open_task(context, event_queue)
        recipient = Recipient(TaskUpdater(event_queue, task_id, context.context_id or ""), log_)
        text = context.get_user_input().strip()
        meta = podium_meta.of_message(context.message)
        debate = self._debates.get(context_id)
        if debate is not None and debate.running:
            await self._interject(debate, text, recipient)
        elif debate is not None and not meta.get("debate"):
            await self._answer(context_id, text, recipient, task_id, stage)
        else:
            try:
                async with self._invited(meta) as meta:
                    await self._run_debate(context_id, text, meta, recipient, task_id, stage)
            except GuestRefused as refused:
                await recipient.updater.update_status(
                    pb.TaskState.TASK_STATE_REJECTED,
                    message=recipient.updater.new_agent_message([pb.Part(text=str(refused))]),
                )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        why = CancelReason.of(context.call_context)
        stopping = why.kind == "shutdown"
        running = self._relay.running.get(task_id)
        if running is not None:
            service, turn_id = running
            await service.cancel(
                turn_id, why if stopping else CancelReason("the debate was canceled")
            )
        debate = self._debates.get(
            conversation_key(owner_of(context.call_context), context.context_id or "")
        )
        if debate is not None and debate.running and debate.task_id == task_id:
            debate.running = False
        said = why.reason if stopping else "Debate canceled."
        if (
            debate is not None
            and debate.task_id != task_id
            and await self._withdraw(debate, task_id, why)
        ):
            said = f"Withdrawn: {why.reason}"  # an interjection, not the debate
        updater = TaskUpdater(event_queue, task_id, context.context_id or "")
        await updater.update_status(
            why.state,  # type: ignore[arg-type]  # the enum's values are its ints
            message=updater.new_agent_message([pb.Part(text=said)]),
        )

    # ── debate ─────────────────────────────────────────────────────────────────
    @contextlib.asynccontextmanager
    async def _invited(self, meta: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """``meta`` with its speakers named by card URL invited (by their names) for the
        debate's length; raises ``GuestRefused`` if one cannot be."""
        speakers = meta.get("speakers")
        if not isinstance(speakers, list) or not any(
            isinstance(s, str) and is_url(s) for s in speakers
        ):
            yield meta
            return
        if self.guests is None:
            raise GuestRefused("this server does not invite agents by URL")
        urls = [s for s in speakers if isinstance(s, str) and is_url(s)]
        local = [s for s in speakers if s not in urls]
        names = await self.guests.invite(urls, local)
        named = dict(zip(urls, names, strict=True))
        try:
            yield meta | {"speakers": [named.get(s, s) for s in speakers]}
        finally:
            await self.guests.release(names)

    async def _run_debate(
        self,
        context_id: str,
        topic: str,
        meta: dict[str, Any],
        recipient: Recipient,
        task_id: str,
        stage: Delivery | None,
    ) -> str:
        updater = recipient.updater
        configured = [s.name for s in self._directory.debaters]
        known = configured + self._directory.invited  # a room's invited agents debate too
        plan = DebatePlan.parse(meta, self._order or tuple(configured), self._rounds, known)
        if not topic or isinstance(plan, str):
            reason = plan if isinstance(plan, str) else "send a topic (text) to debate"
            await updater.update_status(
                pb.TaskState.TASK_STATE_REJECTED,
                message=updater.new_agent_message([pb.Part(text=reason)]),
            )
            return "rejected"
        wpm = 0.0 if stage is not None else _number(meta.get("wpm"), self._text_wpm)
        floor = self._floors.open(context_id)
        budget = meta.get("interruptions")
        floor.new_debate(int(budget) if isinstance(budget, int | float) else None)
        debate = Debate(context_id, topic, plan, task_id, floor, stage, wpm)
        self._debates[context_id] = debate
        names = " vs ".join(self._relay.display(n) for n in plan.order)
        await updater.update_status(
            pb.TaskState.TASK_STATE_WORKING,
            message=updater.new_agent_message(
                [pb.Part(text=f"Debate: {topic} ({names}, {plan.rounds} rounds)")]
            ),
            metadata=DebateStarted(topic, tuple(plan.order)).to_metadata(),
        )
        states: list[str] = []
        failures: list[str] = []
        try:
            while True:
                await self._serve_interjections(debate, recipient)
                if not debate.running:
                    return "canceled"
                cue = plan.next()
                if cue is None:
                    break
                service = self._directory.get(cue.agent)
                assert service is not None
                meta_ = cue.metadata(topic) | ({"wpm": wpm} if wpm else {})
                bids = self._bidding(debate, service, [recipient])
                result = await self._relay.run(
                    service, topic, meta_, [recipient], task_id, stage, bids
                )
                states.append(result.state)
                if result.failure is not None:
                    failures.append(result.failure)
                if bids is not None and bids.granted is not None:
                    plan.cut_in(bids.granted.by, bids.cut_after, cue.agent)
        finally:
            debate.running = False
            for late in debate.pending:
                if not late.done.done():
                    late.done.set_result("debate ended")
            if stage is None:
                self._floors.close(context_id)
        if states and all(state == "failed" for state in states):
            await updater.update_status(
                pb.TaskState.TASK_STATE_FAILED,
                message=updater.new_agent_message(
                    [pb.Part(text="Every turn failed: " + "; ".join(dict.fromkeys(failures)))]
                ),
                metadata=DebateFinished().to_metadata(),
            )
            return "failed"
        await updater.update_status(
            pb.TaskState.TASK_STATE_COMPLETED,
            message=updater.new_agent_message([pb.Part(text="Debate finished.")]),
            metadata=DebateFinished().to_metadata(),
        )
        return "completed"

    async def _withdraw(self, debate: Debate, task_id: str, why: CancelReason) -> bool:
        """The interjection of task ``task_id`` is canceled (its speaker went on, and the
        whole sentence is asked next): dropped if waiting, its answer stopped if begun (no
        more of it written to the withdrawn task). False: no such interjection."""
        waiting = [i for i in debate.pending if i.recipient.updater.task_id == task_id]
        debate.pending = [i for i in debate.pending if i not in waiting]
        if debate.serving is None:
            return bool(waiting)
        interjection, audience = debate.serving
        if interjection.recipient.updater.task_id != task_id:
            return bool(waiting)
        audience.remove(interjection.recipient)
        if (running := self._relay.running.get(debate.task_id)) is not None:
            service, turn_id = running
            await service.cancel(turn_id, why)
        return True

    async def _serve_interjections(self, debate: Debate, recipient: Recipient) -> None:
        while debate.pending and debate.running:
            # chosen once no one holds the floor: a person still speaking may yet withdraw it
            await debate.floor.wait_for_agents()
            if not debate.pending or not debate.running:
                break
            interjection = debate.pending.pop(0)
            audience = [recipient, interjection.recipient]
            debate.serving = (interjection, audience)
            service = self._directory.get(interjection.agent)
            assert service is not None
            meta = {"speaker": "user", "topic": debate.topic}
            try:
                result = await self._relay.run(
                    service,
                    interjection.text,
                    meta,
                    audience,
                    debate.task_id,
                    debate.stage,
                )
            finally:
                debate.serving = None
            if not interjection.done.done():
                interjection.done.set_result(result.state)

    async def _interject(self, debate: Debate, text: str, recipient: Recipient) -> str:
        updater = recipient.updater
        personas = self._personas(debate.plan.order)
        decision = route(text, personas, await self._recent(debate.context_id))
        interjection = Interjection(text, decision.agent, recipient)
        debate.pending.append(interjection)
        await updater.update_status(
            pb.TaskState.TASK_STATE_WORKING,
            message=updater.new_agent_message(
                [pb.Part(text=f"{self._relay.display(decision.agent)} will answer next.")]
            ),
            metadata=Routed(decision.agent, decision.reason).to_metadata(),
        )
        state = await interjection.done
        return await self._finish_like(updater, state)

    async def _answer(
        self, context_id: str, text: str, recipient: Recipient, task_id: str, stage: Delivery | None
    ) -> str:
        updater = recipient.updater
        debaters = [s.persona for s in self._directory.debaters]
        decision = route(text, debaters, await self._recent(context_id))
        service = self._directory.get(decision.agent)
        assert service is not None
        await updater.update_status(
            pb.TaskState.TASK_STATE_WORKING,
            metadata=Routed(decision.agent, decision.reason).to_metadata(),
        )
        result = await self._relay.run(
            service, text, {"speaker": "user"}, [recipient], task_id, stage
        )
        return await self._finish_like(updater, result.state)

    # ── cut-ins ────────────────────────────────────────────────────────────────
    def _bidding(
        self, debate: Debate, service: AgentService, recipients: Sequence[Recipient]
    ) -> TurnBids | None:
        """The others' bids during ``service``'s turn (None when nobody can bid)."""
        rivals = []
        for name in debate.plan.order:
            rival = self._directory.get(name)
            brain = getattr(rival.executor, "brain", None) if rival else None
            if rival and name != service.name and isinstance(brain, Bidder):
                rivals.append(Rival(name, rival.persona, brain))
        if not rivals:
            return None

        async def publish(event: DebateEvent) -> None:
            await announce(recipients, event)

        return TurnBids(debate.floor, service.name, debate.topic, rivals, publish, self._cut_in)

    async def _cut_in(self, decision: Interrupt) -> bool:
        """A granted bid: the speaker's turn ends ``canceled``, naming the interrupter. False
        when the turn had already ended on its own."""
        service = self._directory.get(decision.agent)
        if service is None:
            return False
        why = CancelReason(
            f"interrupted by {self._relay.display(decision.by)}",
            by=decision.by,
            kind=decision.kind,
            trail=decision.overlap,
        )
        task = await service.cancel(decision.turn_id, why)
        return task is not None and task.status.state == pb.TaskState.TASK_STATE_CANCELED

    # ── helpers ───────────────────────────────────────────────────────────────
    async def _finish_like(self, updater: TaskUpdater, state: str) -> str:
        if state == "completed":
            await updater.complete()
            return "completed"
        await updater.update_status(
            pb.TaskState.TASK_STATE_FAILED,
            message=updater.new_agent_message([pb.Part(text=f"the answer ended {state}")]),
        )
        return "failed"

    def _personas(self, names: Sequence[str]) -> list[Persona]:
        return [s.persona for n in names if (s := self._directory.get(n)) is not None]

    async def _recent(self, context_id: str) -> list[str]:
        return [u.speaker for u in await self._transcript.history(context_id)]


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return default
