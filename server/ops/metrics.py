"""Podium's Prometheus metrics, with ``prometheus_client``: histograms of the turn-taking
latencies, counters of what happened, gauges read when scraped. Each app has a registry of its
own (several apps in one process, as in tests, do not share series)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Voice latencies are judged against 100-1000 ms; finer steps where the targets lie.
LATENCY_BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 2.5, 5.0)
HISTOGRAMS = {
    "bargein": "person starts speaking -> the agent's voice is ducked",
    "e2e": "person stops speaking -> first audible reply",
    "turn_gap": "one agent's voice ends -> the next begins",
    "overlap": "agent cut-ins: seconds both voices were heard",
    "vad_onset": "first speech in a person's audio -> the detector confirms an utterance",
}
COUNTERS = {
    "interruptions": ("turns cut short, by who cut them", ("kind",)),
    "false_starts": ("speech onsets that turned out not to be a turn", ()),
    "holds_released": ("agent voices held for breath or frication that was not speech", ()),
    "turns": ("agent turns ended, by agent and end state", ("agent", "state")),
}


class _Gauges(Collector):
    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, value in sorted(self._read().items()):
            yield GaugeMetricFamily(f"podium_{name}", f"{name.replace('_', ' ')} now", value)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._histograms = {
            name: Histogram(
                f"podium_{name}_seconds", text, buckets=LATENCY_BUCKETS, registry=self.registry
            )
            for name, text in HISTOGRAMS.items()
        }
        self._counters = {
            name: Counter(f"podium_{name}", text, labels, registry=self.registry)
            for name, (text, labels) in COUNTERS.items()
        }

    def observe(self, name: str, seconds: float) -> None:
        """``name``: one of ``HISTOGRAMS``."""
        self._histograms[name].observe(seconds)

    def inc(self, name: str, **labels: str) -> None:
        """``name``: one of ``COUNTERS``, with its labels."""
        counter = self._counters[name]
        (counter.labels(**labels) if labels else counter).inc()

    def gauges(self, read: Callable[[], dict[str, float]]) -> None:
        """Gauges read from ``read`` at each scrape (rooms, participants...)."""
        self.registry.register(_Gauges(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
