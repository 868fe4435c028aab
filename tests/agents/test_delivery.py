"""Deliveries: a turn goes where its message was claimed; a cancel reaches only that place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from a2a.types import a2a_pb2 as pb
from google.protobuf.json_format import MessageToDict

from agents.delivery import Deliveries, HeardAudio, ImmediateDelivery, TurnInfo
from agents.executor import DebaterExecutor
from agents.persona import BrainSpec
from agents.service import AgentService, call_context
from agents.turn import CancelReason
from server.runtime import build_runtime
from tests.serving import podium_settings


class Stage:
    """A delivery that passes text through until it is stopped (as a room cuts a voice)."""

    def __init__(self, cut: tuple[int, CancelReason] | None = None) -> None:
        self.stops: list[tuple[str, CancelReason]] = []
        self.finished_turns: list[str] = []
        self.delivered: dict[str, list[str]] = {}  # chunks delivered, per turn
        self._cut = cut  # (after this many chunks, why): the stage stops the turn itself

    def update_every(self, turn: TurnInfo) -> float:
        return 0.0

    async def deliver(self, turn: TurnInfo, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for chunk in chunks:
            if self.stopped(turn.task_id) is not None:
                return
            self.delivered.setdefault(turn.task_id, []).append(chunk)
            yield chunk
            if self._cut is not None and len(self.delivered[turn.task_id]) == self._cut[0]:
                self.stop(turn.task_id, self._cut[1])

    def stop(self, task_id: str, why: CancelReason) -> None:
        self.stops.append((task_id, why))

    def stopped(self, task_id: str) -> CancelReason | None:
        return next((why for t, why in self.stops if t == task_id), None)

    def finished(self, task_id: str) -> None:
        self.finished_turns.append(task_id)

    def progress(self, turn: TurnInfo, note: str) -> None:
        return None

    def heard(self, task_id: str) -> HeardAudio | None:
        return None


def test_a_claimed_message_binds_its_task_to_the_claimer_and_no_one_else() -> None:
    deliveries = Deliveries()
    room_a, room_b = Stage(), Stage()
    deliveries.claim("m1", room_a)
    deliveries.claim("m2", room_b)
    assert deliveries.open("m1", "t1") is room_a
    assert deliveries.open("m1", "t9") is deliveries.default, "a claim is taken once"
    assert deliveries.open("m3", "t3") is deliveries.default
    why = CancelReason("interrupted by Ann", "Ann", "human")
    deliveries.of_task("t1").stop("t1", why)
    assert room_a.stops == [("t1", why)] and room_b.stops == []
    deliveries.close("t1")
    assert room_a.finished_turns == ["t1"], "the delivery forgets a turn once its task ends"
    assert deliveries.of_task("t1") is deliveries.default


def test_released_and_taken_claims_are_gone() -> None:
    deliveries = Deliveries()
    stage = Stage()
    deliveries.claim("m1", stage)
    deliveries.release("m1")
    assert deliveries.take("m1") is None
    deliveries.claim("m2", stage)
    assert deliveries.take("m2") is stage and deliveries.take("m2") is None


async def test_immediate_delivery_passes_chunks_through_unpaced() -> None:
    async def chunks() -> AsyncIterator[str]:
        for chunk in ("a", " b", " c"):
            yield chunk

    delivered = [c async for c in ImmediateDelivery().deliver(TurnInfo("mei", "t"), chunks())]
    assert delivered == ["a", " b", " c"]


def test_cancel_reasons_travel_in_the_call_context() -> None:
    from a2a.server.context import ServerCallContext

    why = CancelReason("interrupted by Shuai", "shuai", "agent", trail=0.25)
    context = why.into(ServerCallContext())
    assert CancelReason.of(context) == why
    assert why.metadata() == {
        "reason": "interrupted by Shuai",
        "by": "shuai",
        "interruption": "agent",
    }
    assert CancelReason.of(ServerCallContext()) == CancelReason("canceled by client")


def test_a_called_off_turn_stays_called_off_until_it_closes() -> None:
    deliveries = Deliveries()
    deliveries.revoke("m1")  # before it opens
    deliveries.open("m1", "t1")
    assert deliveries.revoked("m1") and deliveries.revoked("m1"), "asked at every update"
    deliveries.open("m2", "t2")
    assert not deliveries.revoked("m2")
    deliveries.revoke("m2")  # while it runs
    assert deliveries.revoked("m2")
    deliveries.close("t2", "m2")
    assert not deliveries.revoked("m2")


async def test_a_turn_called_off_by_its_starter_ends_canceled_whatever_it_was_doing(
    tmp_path: Path,
) -> None:
    """Called off before it opens, or while it speaks: the executor ends it ``canceled``,
    keeping what was said (a debate that gave up on it never cancels it through the handler)."""
    runtime = build_runtime(podium_settings(tmp_path, 1, brain=BrainSpec(words_per_second=40)))
    await runtime.start()
    try:
        mei = runtime.directory.get("mei")
        assert mei is not None
        runtime.deliveries.revoke("early")
        events = [e async for e in mei.stream("Why trams?", message_id="early")]
        final = events[-1]
        assert isinstance(final, pb.TaskStatusUpdateEvent)
        assert final.status.state == pb.TaskState.TASK_STATE_CANCELED
        assert "called off" in final.status.message.parts[0].text
        assert not any(isinstance(e, pb.TaskArtifactUpdateEvent) for e in events), "never spoke"

        spoken: list[str] = []
        async for event in mei.stream("Why buses?", message_id="later"):
            if isinstance(event, pb.TaskArtifactUpdateEvent):
                if not spoken:
                    runtime.deliveries.revoke("later")  # while it speaks
                spoken += [p.text for p in event.artifact.parts]
            last = event
        assert isinstance(last, pb.TaskStatusUpdateEvent)
        assert last.status.state == pb.TaskState.TASK_STATE_CANCELED
        task = await mei.store.get(last.task_id, call_context())
        assert task is not None and task.status.state == pb.TaskState.TASK_STATE_CANCELED
        assert "".join(spoken).strip(), "what was said before is kept"
    finally:
        await runtime.aclose()


async def test_a_delivery_stopped_where_it_plays_ends_its_turn_canceled_with_the_reason(
    tmp_path: Path,
) -> None:
    """A room cuts a voiced turn locally (a person barged in): no cancel goes through the
    handler, yet the task ends ``canceled`` with who and why, keeping what was heard."""
    runtime = build_runtime(podium_settings(tmp_path, 1, brain=BrainSpec(words_per_second=0)))
    await runtime.start()
    try:
        mei = runtime.directory.get("mei")
        assert mei is not None
        stage = Stage(cut=(3, CancelReason("interrupted by Ann", "Ann", "human")))
        runtime.deliveries.claim("voiced", stage)
        events = [e async for e in mei.stream("Why trams?", message_id="voiced")]
        final = events[-1]
        assert isinstance(final, pb.TaskStatusUpdateEvent)
        assert final.status.state == pb.TaskState.TASK_STATE_CANCELED
        meta = MessageToDict(final.metadata)
        assert meta["reason"] == "interrupted by Ann" and meta["by"] == "Ann"
        assert meta["interruption"] == "human"
        heard = "".join(
            p.text
            for e in events
            if isinstance(e, pb.TaskArtifactUpdateEvent)
            for p in e.artifact.parts
        )
        task = await mei.store.get(final.task_id, call_context())
        assert task is not None and task.status.state == pb.TaskState.TASK_STATE_CANCELED
        kept = "".join(p.text for a in task.artifacts for p in a.parts)
        assert len(stage.delivered[final.task_id]) == 3
        assert kept == heard == "".join(stage.delivered[final.task_id]), "what was heard, no more"
        assert stage.finished_turns == [final.task_id]
    finally:
        await runtime.aclose()


async def test_a_cancel_after_a_local_stop_keeps_the_stop_s_reason(tmp_path: Path) -> None:
    """A person cut the turn where it plays (human); before the turn noticed, their utterance
    superseded the reply and a second cancel came through the handler: the turn is still
    saved as the person's interruption, whichever arrived at the executor first."""
    runtime = build_runtime(podium_settings(tmp_path, 1, brain=BrainSpec(words_per_second=0)))
    await runtime.start()
    try:
        mei = runtime.directory.get("mei")
        assert mei is not None
        human = CancelReason("interrupted by Ann", "Ann", "human")
        superseded = CancelReason("superseded", "Ann", "superseded")

        class CutThenSuperseded(Stage):
            async def deliver(
                self, turn: TurnInfo, chunks: AsyncIterator[str]
            ) -> AsyncIterator[str]:
                async for chunk in super().deliver(turn, chunks):
                    yield chunk
                    if len(self.delivered[turn.task_id]) == 2:
                        self.stop(turn.task_id, human)
                        await mei.cancel(turn.task_id, superseded)  # before the turn sees it

        stage = CutThenSuperseded()
        runtime.deliveries.claim("voiced", stage)
        events = [e async for e in mei.stream("Why trams?", message_id="voiced")]
        final = events[-1]
        assert isinstance(final, pb.TaskStatusUpdateEvent)
        assert final.status.state == pb.TaskState.TASK_STATE_CANCELED
        await _saved_as_cut_by_ann(mei, final.task_id)
    finally:
        await runtime.aclose()


async def test_a_cancel_that_finds_the_turn_ending_on_its_own_waits_for_that_end(
    tmp_path: Path,
) -> None:
    """A person cut the turn where it plays; while the turn writes its own canceled end, a
    cancel comes through the handler (their utterance superseding the reply). The SDK stops
    the turn's producer as soon as the executor's cancel returns: that cancel must wait for
    the end to be written, or the end is cut off and the turn saved without its reason."""
    runtime = build_runtime(podium_settings(tmp_path, 1, brain=BrainSpec(words_per_second=0)))
    await runtime.start()
    superseding: asyncio.Task[object] | None = None
    try:
        mei = runtime.directory.get("mei")
        assert mei is not None
        executor = mei.executor
        assert isinstance(executor, DebaterExecutor)
        ending, proceed, cancel_arrived = asyncio.Event(), asyncio.Event(), asyncio.Event()
        remember = executor._remember

        async def slow_remember(*args: Any, **kwargs: Any) -> None:
            ending.set()  # the turn is writing its own end…
            await proceed.wait()  # …and goes on once the cancel is at the executor
            await remember(*args, **kwargs)

        cancel = executor.cancel

        async def noted_cancel(context: Any, queue: Any) -> None:
            cancel_arrived.set()
            await cancel(context, queue)

        executor._remember = slow_remember  # type: ignore[method-assign]
        executor.cancel = noted_cancel  # type: ignore[method-assign,assignment]
        human = CancelReason("interrupted by Ann", "Ann", "human")
        runtime.deliveries.claim("voiced", Stage(cut=(2, human)))
        turn = await mei.start("Why trams?", message_id="voiced")
        async with asyncio.timeout(20):
            await ending.wait()
            superseding = asyncio.create_task(
                mei.cancel(turn.task_id, CancelReason("superseded", "Ann", "superseded"))
            )
            await cancel_arrived.wait()
            proceed.set()
            await superseding
            async for _ in turn.events:
                pass
        await turn.aclose()
        await _saved_as_cut_by_ann(mei, turn.task_id)
    finally:
        if superseding is not None:
            superseding.cancel()
            await asyncio.wait({superseding})
        await runtime.aclose()


async def _saved_as_cut_by_ann(mei: AgentService, task_id: str) -> None:
    """The turn is stored canceled, with Ann's barge-in as its reason."""
    task = await mei.store.get(task_id, call_context())
    assert task is not None and task.status.state == pb.TaskState.TASK_STATE_CANCELED
    why = MessageToDict(task.status.message.metadata)
    assert why["interruption"] == "human" and why["by"] == "Ann", why
