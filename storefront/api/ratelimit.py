"""The per-key API rate limit, shared by every process through Redis.

Each key may make ``burst`` requests in any window of ``burst / rate`` minutes
(a moving window, the ``limits`` library): the same burst and, over time, the
same ``rate`` per minute as a token bucket with those settings, but a key
that spent its burst waits for its oldest request to leave the window rather
than for one token. With Redis (``backoffice.redis_url``, or a Redis broker)
the windows live there and hold across all processes and machines; without it
(the embedded default) they live in the process. If Redis cannot be reached
the request is let through (logged): the limit guards against runaway
clients, it is not worth an outage.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the oldest request in the window leaves it
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


def window_seconds(rate_per_minute: float, burst: int) -> int:
    """How long the burst takes to come back at the rate: whole seconds, rounded up."""
    return max(1, math.ceil(burst * 60.0 / rate_per_minute))


class MovingWindow:
    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        *,
        storage_url: str = "memory://",
        prefix: str = "backoffice:",
        clock=time.time,
    ):
        self.burst = burst
        self.window = window_seconds(rate_per_minute, burst)
        self.item = RateLimitItemPerSecond(burst, self.window, namespace="api")
        options = {}
        if storage_url != "memory://":  # a Redis that hangs must not hang requests
            options = {"key_prefix": prefix + "ratelimit", "socket_timeout": 2.0}
            options["socket_connect_timeout"] = 2.0
        self.storage = storage_from_string(storage_url, wrap_exceptions=True, **options)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.clock = clock

    def take(self, key: str) -> Decision:
        try:
            allowed = self.limiter.hit(self.item, key)
            stats = self.limiter.get_window_stats(self.item, key)
        except StorageError as exc:
            log.warning("API rate limit storage unavailable (%s); request let through", exc)
            return Decision(True, self.burst, self.burst, 0, 0)
        reset = max(0, math.ceil(stats.reset_time - self.clock()))
        return Decision(
            allowed, self.burst, stats.remaining, reset, 0 if allowed else max(1, reset)
        )


class Unlimited:
    """``backoffice.api_rate_limit = 0``: no limit, no headers."""

    def take(self, key: str) -> None:
        return None
