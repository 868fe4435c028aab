"""Prometheus text exposition for Podium's own counters and latency summaries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Metrics:
    counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(
        default_factory=lambda: defaultdict(float)
    )
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    help: dict[str, str] = field(default_factory=dict)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        self.counters[(name, tuple(sorted(labels.items())))] += amount

    def observe(self, name: str, value: float, keep: int = 2000) -> None:
        values = self.samples[name]
        values.append(value)
        if len(values) > keep:
            del values[: len(values) - keep]

    def render(self, gauges: dict[str, float] | None = None) -> str:
        lines: list[str] = []
        for (name, labels), value in sorted(self.counters.items()):
            label = ",".join(f'{k}="{v}"' for k, v in labels)
            series = f"podium_{name}{{{label}}}" if label else f"podium_{name}"
            lines.append(f"{series} {value:g}")
        for name, values in sorted(self.samples.items()):
            if not values:
                continue
            array = np.asarray(values)
            lines.append(f"# TYPE podium_{name} summary")
            for q in (0.5, 0.95, 0.99):
                lines.append(f'podium_{name}{{quantile="{q}"}} {np.quantile(array, q):.6f}')
            lines.append(f"podium_{name}_sum {array.sum():.6f}")
            lines.append(f"podium_{name}_count {len(values)}")
        for name, value in sorted((gauges or {}).items()):
            lines.append(f"# TYPE podium_{name} gauge")
            lines.append(f"podium_{name} {value:g}")
        return "\n".join(lines) + "\n"
