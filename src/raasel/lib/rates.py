"""Rate-limit settings and the pure token-bucket rule.

``Rate`` ("COUNT/SECONDS") is a sliding-window limit (storage/ephemeral.py). ``Bucket``
is a token bucket: ``burst`` tokens to start with, refilled at ``refill`` (a ``Rate``:
COUNT tokens every SECONDS) up to ``burst``; an event takes one token. It lets a shared
address (an office, a carrier's NAT) have many events at once while bounding the long
run (docs/security.md, "Limits and why").
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, window = text.partition("/")
        return cls(int(count), int(window or 1))


@dataclass(frozen=True, slots=True)
class Bucket:
    """``burst`` tokens, refilled at ``refill``. Settings read "BURST+COUNT/SECONDS";
    a plain "COUNT/SECONDS" is a bucket of COUNT refilled in SECONDS."""

    burst: int
    refill: Rate

    @classmethod
    def parse(cls, text: str) -> Bucket:
        burst, plus, refill = text.partition("+")
        if not plus:
            rate = Rate.parse(text)
            return cls(rate.count, rate)
        return cls(int(burst), Rate.parse(refill))

    @property
    def per_second(self) -> float:
        return self.refill.count / self.refill.window_seconds

    @property
    def seconds_to_fill(self) -> float:
        """How long an empty bucket takes to be full again (its state's lifetime)."""
        return self.burst / self.per_second


# Float slack, so 10 s at 0.1 token a second is one whole token on every back end.
EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class BucketState:
    tokens: float
    at: float  # seconds, on the limiter's clock


def take_token(state: BucketState | None, bucket: Bucket, now: float) -> tuple[BucketState, int]:
    """Refill ``state`` up to ``now`` and take one token: the new state, and 0 if it was
    taken, else the whole seconds until one is there (nothing is taken then)."""
    if state is None:
        tokens, at = float(bucket.burst), now
    else:
        tokens, at = state.tokens, state.at
        if now > at:  # a clock that went back refills nothing
            tokens = min(float(bucket.burst), tokens + (now - at) * bucket.per_second)
            at = now
    if tokens >= 1 - EPSILON:
        return BucketState(max(tokens - 1, 0.0), at), 0
    return BucketState(tokens, at), max(1, math.ceil((1 - tokens) / bucket.per_second - EPSILON))
