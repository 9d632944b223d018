"""Query parameters shared by the lists: date-times, and ``updated_after``.

A date-time is ISO 8601; one without an offset is UTC (the database keeps UTC,
naive). ``updated_after`` is inclusive: times are kept to the second, so a site
that passes the newest ``updated_at`` it has seen gets that second again (and
drops what it already has by id) rather than missing a change made later in it.
"""

from __future__ import annotations

from datetime import datetime

from backoffice.web.input import InputError, parse_datetime
from storefront.api.errors import bad_request

EXAMPLE = "2026-01-31T12:00:00Z"


def datetime_param(params, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    # Stored naive in UTC: an offset given by the client is converted, none means UTC;
    # one parser for every date from outside (ASCII, years 1000-9999, no overflow).
    try:
        return parse_datetime(raw)
    except InputError as exc:
        raise bad_request(
            f"{name} must be an ISO 8601 date-time such as {EXAMPLE} (no offset means UTC): {exc}",
            {"parameter": name, "value": raw[:100]},
        ) from None


def updated_after(statement, column, params):
    """``statement`` narrowed to rows changed at or after ``updated_after``, if given."""
    since = datetime_param(params, "updated_after")
    return statement if since is None else statement.where(column >= since)
