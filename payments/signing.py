"""Helpers shared by gateways that check signatures and timestamps."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from payments.errors import ConfigurationError, VerificationError


def require_secret(config: dict, name: str) -> str:
    """The named secret, or ``ConfigurationError``: never verify with ""."""
    value = config.get(name)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"gateway secret {name!r} is not configured")
    return value


def hmac_sha256_hex(key: str | bytes, message: bytes) -> str:
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw_key, message, hashlib.sha256).hexdigest()


def digests_equal(expected: str, received: str, *, ignore_case: bool = False) -> bool:
    """Constant-time comparison that tolerates non-ASCII junk input.

    ``hmac.compare_digest`` raises on non-ASCII ``str``; comparing bytes turns
    a malformed signature into a plain mismatch instead of a 500.
    """
    if ignore_case:
        expected, received = expected.lower(), received.lower()
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


def any_digest_equal(expected: str, candidates: list[str]) -> bool:
    # Compare against every candidate so timing does not reveal which matched.
    matched = False
    for candidate in candidates:
        matched |= digests_equal(expected, candidate)
    return matched


def check_timestamp(timestamp: int, now: datetime, tolerance: int) -> None:
    """Refuse signed timestamps too old *or* too far in the future.

    A future-dated signature is as suspicious as a stale one: it would stay
    replayable for longer than the tolerance promises.
    """
    skew = now.timestamp() - timestamp
    if abs(skew) > tolerance:
        direction = "old" if skew > 0 else "far in the future"
        raise VerificationError(f"signature timestamp is too {direction} ({int(skew)} s)")
