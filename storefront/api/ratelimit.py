"""A token bucket per API key, in process.

Each key gets ``burst`` tokens, refilled at ``rate_per_minute / 60`` per second;
a request takes one. The buckets live in this process: with several processes
each enforces the limit on its own, so the effective limit is multiplied by the
number of processes (documented in docs/api.md). Good enough against a runaway
client; a shared limit would need Redis.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds until one request is allowed (0 when allowed)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class TokenBuckets:
    def __init__(
        self, rate_per_minute: float, burst: int, *, max_keys: int = 100_000, clock=time.monotonic
    ):
        self.rate = rate_per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return Decision(
            allowed,
            self.burst,
            int(tokens),
            self._seconds(self.burst - tokens),
            0 if allowed else max(1, self._seconds(1.0 - tokens)),
        )

    def _seconds(self, tokens: float) -> int:
        return math.ceil(tokens / self.rate) if self.rate > 0 else 0


class Unlimited:
    """``backoffice.api_rate_limit = 0``: no limit, no headers."""

    def take(self, key: str) -> None:
        return None
