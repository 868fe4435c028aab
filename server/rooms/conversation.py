"""A room's side of the A2A conversation: utterances become turns, debates start and end.

A person's utterance is routed to one debater and answered as an A2A task, or, while a
debate runs, handed to the moderator, who answers it at the next turn boundary. An utterance
that goes on from one whose answer its speaker cut short is answered with it, as one sentence
(``server.rooms.resumption``), in a debate too (the moderator answers both as one
interjection). Every turn
started here is claimed for the room's delivery first (``Deliveries.claim``), so it is voiced
in this room and a cancel reaches this room only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from agents.debate import events as debate_events
from agents.debate.events import BidMade, Routed
from agents.debate.router import route
from agents.delivery import Delivery
from agents.service import AgentService
from agents.turn import CancelReason, Turn
from server.background import BackgroundTasks
from server.http.errors import Conflict
from server.rooms import events as ev
from server.rooms.event_hub import EventHub
from server.rooms.resumption import Answered, Spoken, resumed
from server.rooms.room_setup import RoomSetup

INTERJECTION_PATIENCE = 10.0  # seconds to wait for a running debate to queue an utterance
SLOW_ANSWER = 8.0  # seconds an utterance's answer may take to start before a warning says where

log = logging.getLogger(__name__)


class Conversation:
    def __init__(
        self,
        context_id: str,
        topic: str,
        agents: Sequence[str],
        setup: RoomSetup,
        stage: Delivery,
        events: EventHub,
        tasks: BackgroundTasks,
        resume_within: float,
    ) -> None:
        self._context_id = context_id
        self._topic = topic
        self._agents = list(agents)
        self._setup = setup
        self._stage = stage
        self._events = events
        self._tasks = tasks
        self.reply: tuple[AgentService, str] | None = None  # the routed answer being made
        self._answered: Answered | None = None  # the last spoken utterance routed, its answer
        self._resume_within = resume_within  # a sentence resumed: ``server.rooms.resumption``
        self._debate: tuple[str, asyncio.Task[None]] | None = None
        self._debate_lock = asyncio.Lock()
        self._announced = asyncio.Event()  # a starting debate's DebateStarted is out
        self._announced.set()
        self._step = ""  # where the latest utterance's answer is, for a slow answer's warning

    @property
    def debate_task_id(self) -> str | None:
        return self._debate[0] if self._debate else None

    @property
    def debating(self) -> bool:
        return self._debate is not None and not self._debate[1].done()

    async def cancel(self, agent: str, task_id: str, why: CancelReason) -> None:
        """Cancels a turn saying who and why; its voice here stops (or trails off)."""
        if (service := self._setup.directory.get(agent)) is not None:
            await service.cancel(task_id, why)  # the executor stops this room's voice

    def interrupted(self, task_id: str, by: str) -> None:
        """``by``'s voice cut turn ``task_id`` short."""
        if self._answered is not None:
            self._answered.cut_by(task_id, by)

    async def say(self, text: str, who: str, spoken: Spoken | None = None) -> str | None:
        """Answers an utterance (``spoken``: when its voice began and stopped; None: typed);
        returns the answering agent (None: the debate takes it). An answer that has not
        started after ``SLOW_ANSWER`` seconds is logged with the step it waits on."""
        answer = asyncio.ensure_future(self._say(text, who, spoken))
        try:
            done, _ = await asyncio.wait({answer}, timeout=SLOW_ANSWER)
            if not done:
                log.warning(
                    "%s's utterance is not answered after %.0f s: %s", who, SLOW_ANSWER, self._step
                )
            return await answer
        finally:
            if not answer.done():  # canceled while it waits (the room closed): the answer
                answer.cancel()  # stops, and how it ended is of no one's concern
                answer.add_done_callback(_unanswered)

    async def _say(self, text: str, who: str, spoken: Spoken | None) -> str | None:
        answered, self._answered = self._answered, None
        superseded = CancelReason("superseded", who, "superseded")
        if self.reply is not None:  # a newer utterance supersedes an answer still coming
            service, task_id = self.reply
            if answered is not None:
                answered.cut_by(task_id, who)
            self._step = f"canceling the reply it supersedes ({service.name}, task {task_id})"
            await self.cancel(service.name, task_id, superseded)
        before = None
        if spoken is not None:
            before = resumed(answered, who, spoken.started, self._resume_within)
            if before is not None:
                text = f"{before.text} {text}"
                self._events.publish(ev.SentenceResumed(who, text))
            spoken.teach(before, self._setup.vad.end_of_turn)
        if self.debating:
            root = self._setup.directory.root
            if before is not None and before.asked and root is not None:  # the half sentence
                self._step = f"withdrawing the half sentence (task {before.asked})"
                await self.cancel(root.name, before.asked, superseded)  # is withdrawn
            self._step = "handing it to the debate"
            asked = await self._interject(text, who)
            if spoken is not None:
                self._answered = Answered(who, text, spoken.stopped, "", asked)
            return None
        directory = self._setup.directory
        personas = [s.persona for n in self._agents if (s := directory.get(n))]
        answering = directory.get(route(text, personas).agent)
        assert answering is not None
        self._step = f"starting {answering.name}'s answer"
        turn = await self._start(answering, text, {"speaker": who})
        self._step = f"{answering.name}'s answer started (task {turn.task_id})"
        self.reply = (answering, turn.task_id)
        if spoken is not None:
            self._answered = Answered(who, text, spoken.stopped, turn.task_id)
        self._tasks.spawn(self._follow_reply(turn))
        return answering.name

    async def _start(self, service: AgentService, text: str, meta: dict[str, Any]) -> Turn:
        message_id = uuid.uuid4().hex
        self._setup.deliveries.claim(message_id, self._stage)
        try:
            return await service.start(text, self._context_id, meta, message_id)
        finally:
            self._setup.deliveries.release(message_id)

    async def _follow_reply(self, turn: Turn) -> None:
        try:
            async for _ in turn.events:
                pass
        finally:
            await turn.aclose()
            if self.reply is not None and self.reply[1] == turn.task_id:
                self.reply = None

    async def _interject(self, text: str, who: str) -> str:
        """Hands the utterance to the running debate; returns once it is queued there, with
        the interjection's task id."""
        root = self._setup.directory.root
        assert root is not None
        turn = await self._start(root, text, {"speaker": who})
        queued: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks.spawn(self._follow_interjection(turn, queued))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(queued), INTERJECTION_PATIENCE)
        return turn.task_id

    async def _follow_interjection(self, turn: Turn, queued: asyncio.Future[None]) -> None:
        try:
            async for event in turn.events:
                if not queued.done() and isinstance(debate_events.from_status(event), Routed):
                    queued.set_result(None)
        finally:
            await turn.aclose()
            if not queued.done():
                queued.set_result(None)

    async def start_debate(self, rounds: int | None, interruptions: int | None) -> None:
        """Starts (or restarts) the room's debate; ``Conflict`` while another start is under
        way (two requests at once would each restart the other's)."""
        if self._debate_lock.locked():
            raise Conflict("a debate is being started in this room; try again in a moment")
        async with self._debate_lock:
            await self.end_debate("the debate was restarted")
            root = self._setup.directory.root
            assert root is not None
            meta: dict[str, Any] = {"speakers": self._agents, "debate": True}
            if rounds:
                meta["rounds"] = rounds
            if interruptions is not None:
                meta["interruptions"] = interruptions
            self._announced.clear()  # its first turn waits for DebateStarted
            try:
                turn = await self._start(root, self._topic, meta)
                self._debate = (turn.task_id, self._tasks.spawn(self._follow_debate(turn)))
                self._events.publish(ev.DebateStarted(turn.task_id))
            finally:
                self._announced.set()

    async def announced(self) -> None:
        """Returns once a debate being started has been announced (at once otherwise)."""
        await self._announced.wait()

    async def _follow_debate(self, turn: Turn) -> None:
        try:
            async for event in turn.events:
                match debate_events.from_status(event):
                    case BidMade(agent, over, urgency, granted, reason):
                        self._events.publish(ev.BidMade(agent, over, urgency, granted, reason))
            self._events.publish(ev.DebateFinished(turn.task_id))
        finally:
            await turn.aclose()

    async def end_debate(self, reason: str) -> None:
        if self._debate is None:
            return
        task_id, follower = self._debate
        self._debate = None
        root = self._setup.directory.root
        if not follower.done() and root is not None:
            await root.cancel(task_id, CancelReason(reason))
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


def _unanswered(answer: asyncio.Future[str | None]) -> None:
    if not answer.cancelled() and (error := answer.exception()) is not None:
        log.debug("an answer stopped as its room closed: %s", error)
