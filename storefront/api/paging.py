"""Cursor pagination: newest first, the cursor is the last id seen (opaque to clients)."""

from __future__ import annotations

import base64
import binascii

from backoffice.web.input import InputError, parse_int
from storefront.api.errors import bad_request

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:  # absent, or ``cursor=`` as a client builds it before the first page
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id":
            raise ValueError(text)
        return parse_int(value, minimum=0)
    except (ValueError, binascii.Error):
        raise bad_request("invalid cursor", {"parameter": "cursor"}) from None


def limit_of(params) -> int:
    raw = params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        return parse_int(raw, minimum=1, maximum=MAX_LIMIT)
    except InputError:
        message = f"limit must be an integer from 1 to {MAX_LIMIT}"
        raise bad_request(message, {"parameter": "limit"}) from None


def page(statement, id_column, params, session, represent):
    """Run ``statement`` newest first after the cursor; one row more tells if a page follows."""
    limit = limit_of(params)
    after = decode_cursor(params.get("cursor"))
    if after is not None:
        statement = statement.where(id_column < after)
    rows = list(session.scalars(statement.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": [represent(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }
