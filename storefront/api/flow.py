"""Which status an order may move to next (the store's flow).

Defaults of the back-office: new -> confirmed -> paid -> shipped -> delivered,
with cancelled and refunded as side exits. A store that customised its
statuses (``store_settings.order_statuses``: a list of ``{"code", "next": [...]}``)
gets its own transitions.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from backoffice.models import StoreSetting

DEFAULT_FLOW: dict[str, tuple[str, ...]] = {
    "new": ("confirmed", "paid", "cancelled"),
    "confirmed": ("paid", "shipped", "cancelled"),
    "paid": ("shipped", "refunded", "cancelled"),
    "shipped": ("delivered", "refunded"),
    "delivered": ("refunded",),
    "cancelled": (),
    "refunded": (),
}


def store_flow(db: Session) -> dict[str, tuple[str, ...]]:
    row = db.get(StoreSetting, "order_statuses")
    if row is None or not row.value:
        return DEFAULT_FLOW
    try:
        custom = {
            item["code"]: tuple(item.get("next", ()))
            for item in json.loads(row.value)
            if isinstance(item, dict) and "code" in item
        }
    except (ValueError, TypeError):
        return DEFAULT_FLOW
    # A list without transitions describes names and colours only: keep the default moves.
    return custom if any(custom.values()) else DEFAULT_FLOW


def next_statuses(db: Session, current: str) -> tuple[str, ...]:
    return store_flow(db).get(current, ())
