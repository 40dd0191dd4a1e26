"""Percentiles of benchmark samples, shared by the workers and the drivers (no Django here: the
drivers run in pytest's process, the workers set Django up themselves)."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of the samples."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def p95(values: list[float]) -> float:
    return percentile(values, 0.95)
