"""The order state machine of a store: statuses, their colours and allowed moves.

This is the fulfilment status only (what happens to the goods); whether the
order is paid is its payment status, worked out from the ledger
(``backoffice.payments.ledger``). A store starts with the default flow (new ->
confirmed -> shipped -> delivered, plus cancelled); the owner may rename,
recolour, reorder and add statuses and choose where each may lead. The store's
flow is a list of dicts in the ``order_statuses`` store setting. Every entry
point (the order page, bulk changes, the store API, payments) moves orders
through ``backoffice.orders.service.change_status`` with this flow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from backoffice.i18n import _
from backoffice.models import StoreSetting
from backoffice.orders.enums import FulfilmentStatus as F
from backoffice.orders.enums import OrderEventKind as E
from backoffice.orders.enums import OrderSource, PaymentStatus
from backoffice.payments.enums import LedgerEntryKind as K
from backoffice.payments.enums import PaymentState as S

DEFAULT_FLOW = (
    {"code": F.NEW, "name": "New", "colour": "#1c7ed6", "next": [F.CONFIRMED, F.CANCELLED]},
    {
        "code": F.CONFIRMED,
        "name": "Confirmed",
        "colour": "#7048e8",
        "next": [F.SHIPPED, F.CANCELLED],
    },
    {"code": F.SHIPPED, "name": "Shipped", "colour": "#f08c00", "next": [F.DELIVERED]},
    {"code": F.DELIVERED, "name": "Delivered", "colour": "#2b8a3e", "next": []},
    {"code": F.CANCELLED, "name": "Cancelled", "colour": "#868e96", "next": []},
)
DEFAULT_LABELS = {
    F.NEW: _("New"),
    F.CONFIRMED: _("Confirmed"),
    F.SHIPPED: _("Shipped"),
    F.DELIVERED: _("Delivered"),
    F.CANCELLED: _("Cancelled"),
}
PAYMENT_LABELS = {
    PaymentStatus.UNPAID: _("Unpaid"),
    PaymentStatus.PARTIALLY_PAID: _("Partially paid"),
    PaymentStatus.PAID: _("Paid"),
    PaymentStatus.PARTIALLY_REFUNDED: _("Partially refunded"),
    PaymentStatus.REFUNDED: _("Refunded"),
}
# Timeline entries other than status changes and notes (see payments.ledger).
EVENT_LABELS = {
    E.CREATED: _("Order placed"),
    E.STATUS_CHANGED: _("Status changed"),
    E.PAYMENT_STATUS: _("Payment status changed"),
    E.NOTE: _("Internal note"),
    E.PAYMENT_STARTED: _("Payment started"),
    E.PAYMENT_RECEIVED: _("Payment received"),
    E.PAYMENT_PENDING: _("Payment pending"),
    E.PAYMENT_FAILED: _("Payment failed"),
    E.PAYMENT_CANCELLED: _("Payment cancelled"),
    E.PAYMENT_FLAGGED: _("Payment needs attention"),
    E.REFUND: _("Refund"),
    E.REFUND_FAILED: _("Refund failed"),
    E.REFUND_FLAGGED: _("Refund needs attention"),
    E.STOCK_RETURNED: _("Stock returned"),
}
# Rows of the payments table: what happened, and whether it moved money.
PAYMENT_KIND_LABELS = {
    K.PAYMENT: _("Payment"),
    K.PAYMENT_PENDING: _("Payment (pending)"),
    K.PAYMENT_FAILED: _("Failed payment"),
    K.PAYMENT_CANCELLED: _("Cancelled payment"),
    K.REFUND: _("Refund"),
    K.REFUND_PENDING: _("Refund (pending)"),
}
PAYMENT_ROW_LABELS = {
    S.SUCCEEDED: _("Succeeded"),
    S.PENDING: _("Pending"),
    S.FAILED: _("Failed"),
    S.CANCELLED: _("Cancelled"),
    S.SETTLED: _("Settled"),
}
SOURCE_LABELS = {
    OrderSource.BACKOFFICE: _("Back-office"),
    OrderSource.API: _("Store API"),
    OrderSource.CHECKOUT: _("Checkout"),
}
CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
UNKNOWN_COLOUR = "#868e96"


@dataclass(frozen=True)
class Status:
    code: str
    name: str
    colour: str
    position: int
    next: tuple[str, ...]


class StatusFlow:
    def __init__(self, statuses: list[dict] | None, translate=lambda s: s):
        rows = statuses or [dict(s) for s in DEFAULT_FLOW]
        if not any(r.get("next") for r in rows):
            # A list without moves describes names and colours only: the default moves.
            moves = {d["code"]: d["next"] for d in DEFAULT_FLOW}
            rows = [{**r, "next": moves.get(r["code"], [])} for r in rows]
        self.statuses = [
            Status(
                r["code"],
                r["name"],
                r.get("colour") or UNKNOWN_COLOUR,
                int(r.get("position", i)),
                tuple(r.get("next") or ()),
            )
            for i, r in enumerate(rows)
        ]
        self.statuses.sort(key=lambda s: (s.position, s.code))
        self.by_code = {s.code: s for s in self.statuses}
        self._translate = translate
        self._labels: dict[str, str] = {}

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.statuses]

    def label(self, code: str) -> str:
        if code not in self._labels:
            status = self.by_code.get(code)
            default = next((d for d in DEFAULT_FLOW if d["code"] == code), None)
            if status is None:
                self._labels[code] = code
            elif default is not None and status.name == default["name"]:
                self._labels[code] = self._translate(DEFAULT_LABELS[code])
            else:
                self._labels[code] = status.name
        return self._labels[code]

    def colour(self, code: str) -> str:
        status = self.by_code.get(code)
        return status.colour if status else UNKNOWN_COLOUR

    def next(self, code: str) -> list[str]:
        status = self.by_code.get(code)
        return [c for c in status.next if c in self.by_code] if status else []

    def can_move(self, current: str, target: str) -> bool:
        return target in self.next(current)

    def choices(self) -> list[tuple[str, str]]:
        return [(s.code, self.label(s.code)) for s in self.statuses]

    def as_rows(self) -> list[dict]:
        return [
            {
                "code": s.code,
                "name": s.name,
                "colour": s.colour,
                "position": s.position,
                "next": list(s.next),
            }
            for s in self.statuses
        ]


def label(translate, labels: dict, code: str) -> str:
    """The translated name of a code; a code we have no name for is shown as it is."""
    name = labels.get(code)
    return translate(name) if name is not None else code


def payment_label(translate, status: str) -> str:
    return label(translate, PAYMENT_LABELS, status)


class Labels:
    """Names of the codes an order page shows, in the reader's language."""

    def __init__(self, translate):
        self._translate = translate

    def payment(self, code: str) -> str:
        return label(self._translate, PAYMENT_LABELS, code)

    def event(self, code: str) -> str:
        return label(self._translate, EVENT_LABELS, code)

    def payment_kind(self, code: str) -> str:
        return label(self._translate, PAYMENT_KIND_LABELS, code)

    def payment_row(self, code: str) -> str:
        return label(self._translate, PAYMENT_ROW_LABELS, code)

    def source(self, code: str) -> str:
        return label(self._translate, SOURCE_LABELS, code)


def request_order_flow(request) -> StatusFlow:
    return StatusFlow(request.store_config.order_statuses, request.localizer.translate)


def store_flow(db: Session) -> StatusFlow:
    """The store's flow read from its settings (for code without a request)."""
    row = db.get(StoreSetting, "order_statuses")
    try:
        rows = json.loads(row.value) if row is not None and row.value else None
    except ValueError:
        rows = None
    valid = isinstance(rows, list) and all(isinstance(r, dict) and "code" in r for r in rows)
    return StatusFlow(rows if valid else None)
