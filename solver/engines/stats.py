"""What one engine's solve did, for its log line and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SolveStats:
    """One per-order engine's solve of one auction."""

    engine: str
    orders: int
    candidates: int
    """Orders whose limit price holds at marginal rates."""
    screened: int
    """Candidates that pass the gas-inclusive screen (``solver.engines.screen``)."""
    routed: int
    """Screened orders whose routing finished before the deadline."""
    fills: int
    seconds: float
    workers: int

    def __str__(self) -> str:
        return (
            f"{self.engine}: {self.fills} fills, {self.routed} routed of {self.screened} "
            f"screened of {self.candidates} candidates ({self.orders} orders) in "
            f"{self.seconds:.2f} s, {self.workers} worker(s)"
        )
