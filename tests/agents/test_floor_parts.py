"""Floor, TurnBids and TurnLog: the small parts turn-taking and live text stand on."""

from __future__ import annotations

import asyncio

from agents.debate.bidding import BidRequest, Rival, TurnBids
from agents.debate.events import BidMade
from agents.floor.arbiter import Arbiter, FloorPolicy, Interrupt
from agents.floor.floors import Floor
from agents.persona import DEFAULT_DEBATERS
from agents.turn_log import TurnLog, TurnLogs


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_agents_wait_for_the_floor_until_the_person_is_done() -> None:
    floor = Floor(Arbiter(FloorPolicy(), Clock()))
    floor.speech_started("ana")
    waiting = asyncio.ensure_future(floor.wait_for_agents(patience=10))
    await asyncio.sleep(0)
    floor.speech_progress("ana", 0.1)  # a report wakes the waiter, but ana holds the floor
    await asyncio.sleep(0)
    assert not waiting.done()
    floor.speech_ended("ana", "")  # the report itself wakes the waiter: nothing else to call
    assert await asyncio.wait_for(waiting, 1) is True


async def test_patience_runs_out_on_a_floor_that_is_never_given_back() -> None:
    floor = Floor(Arbiter(FloorPolicy(), Clock()))
    floor.speech_started("ana")
    assert await floor.wait_for_agents(patience=0.05) is False


class Bidder:
    def __init__(self, urgency: float | None) -> None:
        self.urgency = urgency
        self.asked: list[BidRequest] = []
        self.answered = asyncio.Event()

    async def bid(self, request: BidRequest) -> float | None:
        self.asked.append(request)
        self.answered.set()
        return self.urgency


async def test_rivals_bid_at_sentence_ends_and_one_grant_cuts_the_speaker() -> None:
    clock = Clock()
    floor = Floor(Arbiter(FloorPolicy(min_floor=1.0), clock))
    floor.agent_started("mei", "t1")
    eager, shy = Bidder(0.9), Bidder(None)
    persona = DEFAULT_DEBATERS[1]
    announced: list[BidMade] = []
    cuts: list[Interrupt] = []

    async def announce(event: BidMade) -> None:
        announced.append(event)

    async def cut(decision: Interrupt) -> bool:
        cuts.append(decision)
        return True

    bids = TurnBids(
        floor,
        "mei",
        "Cars",
        [Rival("shuai", persona, eager), Rival("lin", persona, shy)],
        announce,
        cut,
    )
    bids.heard("Cars are ")
    assert not eager.asked, "no bid in mid-sentence"
    clock.now = 5.0
    bids.heard("wonderful. ")
    await asyncio.wait_for(eager.answered.wait(), 1)
    assert not cuts, "a bid cuts into a turn that goes on: not before the speaker does"
    bids.heard("And ")
    await bids.aclose()
    assert eager.asked[0].heard == "Cars are wonderful." and eager.asked[0].elapsed == 5.0
    assert bids.granted == Interrupt("mei", "t1", "shuai", "agent", "bid", 0.25)
    assert bids.cut_after == "Cars are wonderful." and cuts == [bids.granted]
    assert [(e.agent, e.granted) for e in announced] == [("shuai", True)], "no bid, no word"
    assert announced[0].to_metadata() == {
        "event": "bid",
        "agent": "shuai",
        "over": "mei",
        "urgency": 0.9,
        "granted": True,
        "reason": "bid",
    }


async def test_a_bid_on_the_last_sentence_cuts_nothing_and_spends_no_budget() -> None:
    """A turn's last sentence is also a sentence end: a bid on it waits for the speaker to go
    on, the turn ends instead, and the bid is told so. Nothing is cut, no budget is spent."""
    floor = Floor(Arbiter(FloorPolicy(min_floor=0.0, budget=1), Clock()))
    floor.agent_started("mei", "t1")
    announced: list[BidMade] = []
    cuts: list[Interrupt] = []
    bidder = Bidder(0.9)

    async def announce(event: BidMade) -> None:
        announced.append(event)

    async def cut(decision: Interrupt) -> bool:
        cuts.append(decision)
        return True

    persona = DEFAULT_DEBATERS[1]
    bids = TurnBids(floor, "mei", "Cars", [Rival("shuai", persona, bidder)], announce, cut)
    bids.heard("That is all. ")
    await asyncio.wait_for(bidder.answered.wait(), 1)
    bids.heard(" ")  # trailing space is not going on
    await bids.aclose()  # the turn ended there
    assert not cuts and bids.granted is None
    assert [(e.agent, e.granted, e.reason) for e in announced] == [
        ("shuai", False, "the speaker had finished")
    ]
    assert floor.arbiter.interruptions == 0


async def test_a_grant_is_announced_before_its_cut_and_stands_if_the_turn_just_ended() -> None:
    """The speaker went on by a word and then ended while the grant was carried out: the
    grant was announced first, the cut runs to its end as the turn closes its bidding, and
    the grant stands (the interrupter answers that sentence next)."""
    floor = Floor(Arbiter(FloorPolicy(min_floor=0.0, budget=1), Clock()))
    floor.agent_started("mei", "t1")
    announced: list[BidMade] = []
    attempts: list[tuple[Interrupt, int]] = []  # (the cut, how many bids were out by then)
    cutting, turn_over = asyncio.Event(), asyncio.Event()

    async def announce(event: BidMade) -> None:
        announced.append(event)

    async def cut(decision: Interrupt) -> bool:
        attempts.append((decision, len(announced)))
        cutting.set()
        await turn_over.wait()
        return False  # the turn had ended meanwhile

    persona = DEFAULT_DEBATERS[1]
    bids = TurnBids(floor, "mei", "Cars", [Rival("shuai", persona, Bidder(0.9))], announce, cut)
    bids.heard("Cars are wonderful. ")
    bids.heard("Done.")  # gone on before the rival decided: the bid goes to the floor at once
    await asyncio.wait_for(cutting.wait(), 1)
    closing = asyncio.ensure_future(bids.aclose())  # the relay closes the turn's bidding
    turn_over.set()
    await asyncio.wait_for(closing, 1)
    assert [(d.by, out) for d, out in attempts] == [("shuai", 1)], "announced, then cut"
    assert [(e.agent, e.granted) for e in announced] == [("shuai", True)]
    assert bids.granted is not None and bids.cut_after == "Cars are wonderful."


async def test_turn_log_readers_follow_from_any_offset_until_it_finishes() -> None:
    logs = TurnLogs(keep=1)
    turn = logs.open("t1", "mei", "c1")
    await turn.append("Hello")
    reader = turn.follow(2)
    assert await anext(reader) == (5, "llo")
    await turn.append(" there")
    assert await anext(reader) == (11, " there")
    await turn.finish("completed")
    assert [chunk async for chunk in reader] == []
    assert turn.state == "completed" and logs.get("t1") is turn
    for index in range(3):
        await logs.open(f"x{index}", "mei", "c1").finish("completed")
    assert logs.get("t1") is None, "finished logs are bounded"
    assert isinstance(logs.open("t2", "mei", "c1"), TurnLog)


async def test_turn_logs_forget_the_oldest_finished_never_a_running_one() -> None:
    logs = TurnLogs(keep=3)
    running = logs.open("running", "mei", "c1")  # the oldest, and still going
    for index in range(10):
        await logs.open(f"done{index}", "mei", "c1").finish("completed")
    assert logs.get("running") is running
    kept = [f"done{index}" for index in range(10) if logs.get(f"done{index}") is not None]
    assert kept == ["done8", "done9"], "the newest finished ones, within the bound"
