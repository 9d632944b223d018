"""The store API for reseller websites: JSON under ``/api/v1/``, one store per key.

``includeme`` registers the routes and the per-key rate limiter.
Settings: ``backoffice.api_rate_limit`` (requests per minute per key, default
600; 0 turns the limit off) and ``backoffice.api_rate_burst`` (default 60);
the limit is shared through Redis when there is one (``backoffice.redis_url``).
"""

from __future__ import annotations

from storefront.api.ratelimit import MovingWindow, Unlimited
from tenancy.settings import redis_prefix, redis_url

DEFAULT_RATE, DEFAULT_BURST = "600", "60"


def rate_limiter(settings):
    rate = float(settings.get("backoffice.api_rate_limit") or DEFAULT_RATE)
    burst = int(settings.get("backoffice.api_rate_burst") or DEFAULT_BURST)
    if rate <= 0:
        return Unlimited()
    return MovingWindow(
        rate,
        burst,
        storage_url=redis_url(settings) or "memory://",
        prefix=redis_prefix(settings),
    )


def includeme(config) -> None:
    config.registry.api_rate_limiter = rate_limiter(config.registry.settings)
    config.include("storefront.api.routes")
