"""Rate limits: token buckets keyed by who is asking (a participant, a client address).

One bucket refills at ``rate`` tokens per second up to ``burst``; a request
takes one token (or ``cost``) and is refused when the bucket is empty. Buckets
live in memory per server node; with several nodes each node limits what
reaches it (docs/RELIABILITY.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float, cost: float = 1.0) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


class RateLimiter:
    """Buckets by key; ``allow(key)`` is false when that key is over its rate."""

    def __init__(self, rate: float, burst: float, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._max_keys = max_keys
        self._clock = clock

    def allow(self, key: Hashable, cost: float = 1.0) -> bool:
        if self.rate <= 0:  # a rate of 0 switches the limit off
            return True
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._prune(now)
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.burst, now)
        return bucket.take(now, cost)

    def blocked(self, key: Hashable) -> bool:
        """Whether ``key`` is over its rate now (takes nothing)."""
        bucket = self._buckets.get(key)
        if self.rate <= 0 or bucket is None:
            return False
        now = self._clock()
        return min(bucket.burst, bucket.tokens + (now - bucket.stamp) * bucket.rate) < 1.0

    def retry_after(self, key: Hashable) -> int:
        """Seconds until ``key`` has a token again (for a Retry-After header)."""
        bucket = self._buckets.get(key)
        if bucket is None or self.rate <= 0:
            return 0
        missing = 1.0 - min(bucket.burst, bucket.tokens
                            + (self._clock() - bucket.stamp) * bucket.rate)
        return max(1, int(missing / self.rate + 0.999))

    def forget(self, key: Hashable) -> None:
        self._buckets.pop(key, None)

    def _prune(self, now: float) -> None:
        """Drop full buckets (they say nothing a new bucket would not)."""
        full = [k for k, b in self._buckets.items()
                if b.tokens + (now - b.stamp) * b.rate >= b.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:  # still full: start over rather than grow
            self._buckets.clear()


def per_minute(rate: tuple[float, float]) -> RateLimiter:
    per_min, burst = rate
    return RateLimiter(per_min / 60.0, burst)
