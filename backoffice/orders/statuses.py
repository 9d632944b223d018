"""The order state machine of a store: statuses, their colours and allowed moves.

A store starts with the default flow (new -> confirmed -> paid -> shipped ->
delivered, plus cancelled and refunded); the owner may rename, recolour,
reorder and add statuses and choose where each may lead. The store's flow is a
list of dicts in the ``order_statuses`` store setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backoffice.i18n import _

DEFAULT_FLOW = (
    {"code": "new", "name": "New", "colour": "#1c7ed6", "next": ["confirmed", "cancelled"]},
    {"code": "confirmed", "name": "Confirmed", "colour": "#7048e8", "next": ["paid", "cancelled"]},
    {
        "code": "paid",
        "name": "Paid",
        "colour": "#0ca678",
        "next": ["shipped", "refunded", "cancelled"],
    },
    {"code": "shipped", "name": "Shipped", "colour": "#f08c00", "next": ["delivered", "refunded"]},
    {"code": "delivered", "name": "Delivered", "colour": "#2b8a3e", "next": ["refunded"]},
    {"code": "cancelled", "name": "Cancelled", "colour": "#868e96", "next": []},
    {"code": "refunded", "name": "Refunded", "colour": "#e03131", "next": []},
)
DEFAULT_LABELS = {
    "new": _("New"),
    "confirmed": _("Confirmed"),
    "paid": _("Paid"),
    "shipped": _("Shipped"),
    "delivered": _("Delivered"),
    "cancelled": _("Cancelled"),
    "refunded": _("Refunded"),
}
PAYMENT_LABELS = {
    "unpaid": _("Unpaid"),
    "paid": _("Paid"),
    "partially_refunded": _("Partially refunded"),
    "refunded": _("Refunded"),
    "failed": _("Failed"),
    "pending": _("Pending"),
}
# Timeline entries other than status changes and notes (see payments.ledger).
EVENT_LABELS = {
    "created": _("Order placed"),
    "status_changed": _("Status changed"),
    "payment_status": _("Payment status changed"),
    "note": _("Internal note"),
    "payment_started": _("Payment started"),
    "payment_received": _("Payment received"),
    "payment_pending": _("Payment pending"),
    "payment_failed": _("Payment failed"),
    "payment_cancelled": _("Payment cancelled"),
    "payment_flagged": _("Payment needs attention"),
    "refund": _("Refund"),
    "refund_failed": _("Refund failed"),
    "refund_flagged": _("Refund needs attention"),
}
# Rows of the payments table: what happened, and whether it moved money.
PAYMENT_KIND_LABELS = {
    "payment.succeeded": _("Payment"),
    "payment.pending": _("Payment (pending)"),
    "payment.failed": _("Failed payment"),
    "payment.cancelled": _("Cancelled payment"),
    "refund.succeeded": _("Refund"),
    "refund.pending": _("Refund (pending)"),
}
PAYMENT_ROW_LABELS = {
    "succeeded": _("Succeeded"),
    "pending": _("Pending"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
    "settled": _("Settled"),
}
SOURCE_LABELS = {"backoffice": _("Back-office"), "api": _("Store API"), "checkout": _("Checkout")}
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
