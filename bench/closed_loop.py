"""The measurement window of a closed loop of flows, shared by the MFO driver (bench/autorun.py) and the DBOS one
(bench/dbos_workflows.py). Standard library only: both virtual environments import it."""

from __future__ import annotations

import math
import threading
import time
from typing import Any


def nearest_rank(ordered: list[float], percent: float) -> float | None:
    """The nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


class Window:
    """``clients`` slots each start a flow, wait for it to finish, and start the next, while fewer than
    ``warmup + timed`` have finished. The window opens at the ``warmup``-th completion (at the start without a
    warm-up) and closes at the ``warmup + timed``-th, so the concurrency is full all through it: throughput is
    ``timed`` over its length, and the latency percentiles are those of the flows finishing inside it. The flows
    still in flight when it closes finish afterwards, untimed (their work still counts in what the caller adds up).
    Thread-safe: the DBOS driver's threads share one."""

    def __init__(self, timed: int, warmup: int) -> None:
        self.timed, self.warmup = timed, warmup
        self.began = time.perf_counter()
        self.lock = threading.Lock()
        self.completions: list[tuple[float, float]] = []
        self.started = 0
        self.failures = 0

    def next_flow(self) -> bool:
        """Whether a slot starts another flow (and counts it as started); no once enough have finished, or once
        more have failed than the run needs."""
        with self.lock:
            if len(self.completions) >= self.warmup + self.timed or self.failures > self.warmup + self.timed:
                return False
            self.started += 1
            return True

    def finished(self, started_at: float) -> None:
        now = time.perf_counter()
        with self.lock:
            self.completions.append((now, now - started_at))

    def failed(self) -> None:
        with self.lock:
            self.failures += 1

    def summary(self) -> dict[str, Any]:
        """flows (timed), elapsed_s, per_s, p50_ms and p99_ms of the window; completed, started, failures."""
        ordered = sorted(self.completions)
        closes = self.warmup + self.timed
        figures: dict[str, Any] = {"completed": len(ordered), "started": self.started, "failures": self.failures}
        if closes == 0 or len(ordered) < closes:
            return {**figures, "flows": 0, "elapsed_s": None, "per_s": None, "p50_ms": None, "p99_ms": None}
        opened = ordered[self.warmup - 1][0] if self.warmup else self.began
        elapsed = ordered[closes - 1][0] - opened
        durations = sorted(duration for _, duration in ordered[self.warmup : closes])

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        return {
            **figures,
            "flows": self.timed,
            "elapsed_s": round(elapsed, 3),
            "per_s": round(self.timed / elapsed, 2) if elapsed > 0 else None,
            "p50_ms": ms(nearest_rank(durations, 50)),
            "p99_ms": ms(nearest_rank(durations, 99)),
        }
