"""Quality control of the automatic audit: which verified quotes go to the audit team as
samples, and how often the people disagreed with "verified", with its 95 % interval.

The draw is random per engagement but repeatable: a quote's reference hashed with the
engagement's name gives it a number in [0, 1); it is sampled when that number is below the
share. The same quote is never drawn twice, and a re-run after a crash draws the same.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal

from schemas.forecast import Sampling

Z95 = 1.959963984540054
"""The normal quantile of a two-sided 95 % interval."""


def draw(engagement: str, reference: str) -> float:
    """The quote's repeatable random number in [0, 1)."""
    digest = hashlib.sha256(f"{engagement}\0{reference}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sample_reason(
    engagement: str, reference: str, total: Decimal | None, sampling: Sampling
) -> str | None:
    """Why a verified quote is sampled: `value` (its total is above the engagement's
    threshold), `share` (drawn at random), or None: not sampled."""
    if sampling.above is not None and total is not None and total > sampling.above:
        return "value"
    if draw(engagement, reference) < float(sampling.share) / 100:
        return "share"
    return None


@dataclass(frozen=True)
class Accuracy:
    """The audit's measured disagreement rate: of `n` samples decided, `disagreed` were
    judged wrong by a person."""

    n: int
    disagreed: int

    @property
    def rate(self) -> float | None:
        """p̂: the share of samples a person disagreed with; None before any decision."""
        return self.disagreed / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % interval of the disagreement rate: Wilson's, or with no disagreement yet
        the rule of three (0 to 3/n)."""
        if not self.n:
            return None
        if not self.disagreed:
            return 0.0, min(1.0, 3 / self.n)
        return wilson(self.disagreed, self.n)

    @property
    def needed_for_one_point(self) -> int:
        """Samples decided that would bring the interval to ±1 point (at the rate so far;
        with none disagreed, the rule of three's 300)."""
        return sample_size(self.rate or 0.0, 0.01)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def sample_size(rate: float, margin: float, z: float = Z95) -> int:
    """The fewest decided samples whose 95 % interval at `rate` is at most ±`margin` wide
    (half its width); at a rate of 0, the rule of three's bound 3/n <= margin."""
    if rate <= 0:
        return math.ceil(3 / margin)
    n = max(1, math.ceil(z * z * rate * (1 - rate) / (margin * margin)) - 1)
    while True:
        low, high = wilson(round(rate * n), n, z)
        if (high - low) / 2 <= margin:
            return n
        n += max(1, n // 100)
