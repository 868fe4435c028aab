"""Turn-taking figures of one room, mirrored into the server-wide Prometheus metrics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from server.ops.metrics import Metrics


@dataclass
class RoomStats:
    metrics: Metrics | None = None
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def observe(self, name: str, seconds: float) -> None:
        """``name``: bargein, e2e, turn_gap, overlap or vad_onset (seconds)."""
        values = self.samples[name]
        values.append(seconds)
        del values[:-500]
        if self.metrics is not None:
            self.metrics.observe(name, seconds)

    def count(self, name: str, **labels: str) -> None:
        key = name + "".join(f":{v}" for _, v in sorted(labels.items()))
        self.counts[key] += 1
        if self.metrics is not None:
            self.metrics.inc(name, **labels)

    def summary(self) -> dict[str, Any]:
        figures: dict[str, Any] = dict(self.counts)
        for name, values in self.samples.items():
            if values:
                array = np.asarray(values) * 1000
                figures[f"{name}_ms"] = {
                    "count": len(values),
                    "p50": round(float(np.quantile(array, 0.5)), 1),
                    "p95": round(float(np.quantile(array, 0.95)), 1),
                }
        return figures


def pacing_percentiles(seconds: list[float]) -> dict[str, float] | None:
    """p50/p99 in ms of the participants' latest send intervals (None: nobody listening)."""
    if not seconds:
        return None
    p50, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 99])
    return {"p50": round(float(p50), 1), "p99": round(float(p99), 1), "count": len(seconds)}
