"""Speedup ``order_detail_json``: an order's child rows as JSON arrays in the order's own row.

Plain path (``backoffice.speedups.order_detail_json = false``, and always on
SQLite): one query per child list. The fast path, on MySQL/MariaDB, adds a
scalar subquery per child list to the order's statement,
``"<count> [[...], ...]"`` (``GROUP_CONCAT(JSON_ARRAY(...) ORDER BY ...)``,
which MySQL and MariaDB both order; MySQL's ``JSON_ARRAYAGG`` cannot), and
parses the text back, DATETIME values included: one round trip instead of
four. The count tells a result cut off by the server's
``group_concat_max_len`` from a whole one; a cut list is read again on its own.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Select, literal_column

from tenancy.speedups import Speedup

# Server-side SQL and our own parsing of the server's JSON text: no library's
# insides, so no library range; the switch is for the plain path's sake.
SPEEDUP = Speedup("order_detail_json", ())


def children_json(statement: Select, parent: str, order: str, label: str):
    """A child statement as one scalar subquery of the *parent* table's row."""
    table = statement.get_final_froms()[0].name
    columns = ", ".join(f"{table}.{c.name}" for c in statement.selected_columns)
    return literal_column(
        f"(SELECT CONCAT(COUNT(*), ' [', COALESCE(GROUP_CONCAT(JSON_ARRAY({columns}) "
        f"ORDER BY {table}.{order} SEPARATOR ','), ''), ']') FROM {table} "
        f"WHERE {table}.order_id = {parent}.id)"
    ).label(label)


def children(text: str | None, row) -> list | None:
    """The child rows of one ``children_json`` column, or None when the server
    cut the text short (or it cannot be read), so the caller asks again."""
    if text is None:
        return None
    count, _, array = text.partition(" ")
    try:
        items = json.loads(array)
    except ValueError:
        return None
    if not count.isdigit() or len(items) != int(count):
        return None
    if row._fields[-1] == "created_at":  # JSON carries DATETIME as text
        for item in items:
            item[-1] = datetime.fromisoformat(item[-1])
    return [row._make(item) for item in items]
