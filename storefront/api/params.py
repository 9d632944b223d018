"""Query parameters shared by the lists: date-times, and ``updated_after``.

A date-time is ISO 8601; one without an offset is UTC (the database keeps UTC,
naive). ``updated_after`` is inclusive: times are kept to the second, so a site
that passes the newest ``updated_at`` it has seen gets that second again (and
drops what it already has by id) rather than missing a change made later in it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storefront.api.errors import bad_request

EXAMPLE = "2026-01-31T12:00:00Z"


def datetime_param(params, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        # Stored naive in UTC: an offset given by the client is converted, none means UTC.
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    except (ValueError, OverflowError):
        raise bad_request(
            f"{name} must be an ISO 8601 date-time such as {EXAMPLE} (no offset means UTC)",
            {"parameter": name, "value": raw[:100]},
        ) from None


def updated_after(statement, column, params):
    """``statement`` narrowed to rows changed at or after ``updated_after``, if given."""
    since = datetime_param(params, "updated_after")
    return statement if since is None else statement.where(column >= since)
