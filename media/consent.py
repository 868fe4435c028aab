"""ICE consent freshness (RFC 7675) that drops a vanished peer, not a slow one.

A peer that stops answering consent checks (closed lid, lost network) is closed after
``timeout`` seconds without an answer. aioice's own check counts failures instead: each check
is sent once and fails if no answer comes within 0.5 s, and a few failures in a row close the
connection. A round trip over 0.5 s (satellite, a congested mobile link) or a loop held up for
half a second on either side (a busy machine) then fails every check, and the peer is dropped
while it is still there. Here each check is retransmitted and may be answered for seconds; any
answer renews consent, and only ``timeout`` seconds with none ends it.

``Consent`` decides (pure, times passed in); ``install`` puts the check loop in place of
aioice's for every connection in the process."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

import aioice.ice
from aioice import stun

log = logging.getLogger(__name__)

RETRANSMISSIONS = 2  # a check is sent at 0, 0.5 and 1.5 s and given up at 3.5 s (STUN's RTO)


@dataclass
class Consent:
    """When a connection's consent to send runs out."""

    timeout: float  # seconds without an answer
    answered_at: float  # the last answer (the connection counts as one)

    def answered(self, now: float) -> None:
        self.answered_at = max(self.answered_at, now)

    def expired(self, now: float) -> bool:
        return now - self.answered_at >= self.timeout

    def interval(self, draw: float) -> float:
        """Seconds to the next check: a quarter of the timeout (0.5 to 5 s), ±20 % by ``draw``
        (0 to 1) so that many peers' checks do not line up."""
        base = min(5.0, max(0.5, self.timeout / 4))
        return base * (0.8 + 0.4 * draw)


_timeout = 30.0  # RFC 7675's; ``install`` sets the server's


def install(timeout: float) -> None:
    """Every ICE connection in this process closes after ``timeout`` seconds of unanswered
    consent checks (``[rooms] peer_timeout``)."""
    global _timeout
    for needed in ("query_consent", "build_request", "close"):
        if not hasattr(aioice.ice.Connection, needed):  # pragma: no cover - a new aioice
            raise RuntimeError(f"aioice.ice.Connection has no {needed}: see media/consent.py")
    _timeout = timeout
    aioice.ice.Connection.query_consent = _query_consent  # type: ignore[method-assign]


async def _query_consent(self: aioice.ice.Connection) -> None:
    assert self.remote_password is not None  # checks start once connect() has it
    key = self.remote_password.encode("utf8")
    consent = Consent(_timeout, time.monotonic())
    checks: set[asyncio.Task[None]] = set()  # owned here: cancelled when this loop ends

    async def check(pair: aioice.ice.CandidatePair) -> None:
        request = self.build_request(pair, nominate=False)
        try:
            await pair.protocol.request(
                request, pair.remote_addr, integrity_key=key, retransmissions=RETRANSMISSIONS
            )
        except stun.TransactionError:
            return  # unanswered (or refused): consent is not renewed
        consent.answered(time.monotonic())

    try:
        while not consent.expired(time.monotonic()):
            for pair in self._nominated.values():
                task = asyncio.create_task(check(pair))
                checks.add(task)
                task.add_done_callback(checks.discard)
            await asyncio.sleep(consent.interval(random.random()))
    finally:
        for task in checks:
            task.cancel()
    log.info("a peer gave no answer to consent checks for %.1f s: closing it", consent.timeout)
    self._query_consent_task = None  # close() must not cancel this task, which runs it
    await self.close()
