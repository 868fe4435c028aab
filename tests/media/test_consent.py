"""Consent freshness: a peer is dropped after its timeout without an answer, and any answer,
however late, renews it."""

from __future__ import annotations

import pytest

from media.consent import Consent


def test_consent_runs_out_only_after_the_timeout_without_an_answer() -> None:
    consent = Consent(timeout=6.0, answered_at=100.0)
    assert not consent.expired(105.9)
    assert consent.expired(106.0)
    consent.answered(105.0)  # a check answered late still renews it
    assert not consent.expired(110.9) and consent.expired(111.0)


def test_an_answer_that_arrives_out_of_order_does_not_take_consent_back() -> None:
    consent = Consent(timeout=6.0, answered_at=100.0)
    consent.answered(104.0)
    consent.answered(102.0)  # an earlier check's answer, handled after a later one's
    assert consent.answered_at == 104.0


@pytest.mark.parametrize(
    ("timeout", "low", "high"), [(1.0, 0.4, 0.6), (6.0, 1.2, 1.8), (30.0, 4.0, 6.0)]
)
def test_checks_come_a_quarter_timeout_apart_spread_out(
    timeout: float, low: float, high: float
) -> None:
    consent = Consent(timeout=timeout, answered_at=0.0)
    assert consent.interval(0.0) == pytest.approx(low)
    assert consent.interval(1.0) == pytest.approx(high)
