"""The core's rules for money: authenticated gateway events -> the order's ledger.

Every function runs inside the caller's transaction and locks the order row
(``SELECT ... FOR UPDATE``) before reading its state, so the webhook, its
retries, a second event type for the same payment and a refund from the
order page are applied one after the other. Reads of the order's payments are
locking reads too: under REPEATABLE READ they see the latest committed rows,
not the snapshot the transaction may have taken earlier.

Payment rows: ``kind`` is the event kind (``LedgerEntryKind``), unique per
``(gateway, provider_reference, kind)`` so a repeated event is a no-op. The
order's payment status is worked out from the rows on every money movement
(``settle``) and never set otherwise; it never moves the fulfilment status,
except that a store with ``confirm_paid_orders`` confirms new orders once paid.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.models import AuditEntry, Order, OrderEvent, Payment
from backoffice.orders import service as orders
from backoffice.orders.enums import MovementReason, OrderEventKind, OutboxEventKind, PaymentStatus
from backoffice.orders.errors import (
    NothingToRefund,
    PaymentTooLarge,
    ReasonRequired,
    RefundTooLarge,
)
from backoffice.payments.enums import LedgerEntryKind, PaymentState, RefundMethod
from payments.interfaces import EventKind, GatewayEvent
from payments.money import Money

PAID = LedgerEntryKind.PAYMENT
REFUNDED = LedgerEntryKind.REFUND
REFUND_PENDING = LedgerEntryKind.REFUND_PENDING
COUNTED = PaymentState.SUCCEEDED  # status of the rows that move money in our books
MANUAL_GATEWAY = "manual"  # the gateway of money recorded by hand with no method known


ACCEPTED, DUPLICATE, FLAGGED = "accepted", "duplicate", "flagged"
# Gateway events that move no money: the row's status and the timeline entry.
_OTHER_PAYMENT_EVENTS = {
    EventKind.PAYMENT_PENDING: (PaymentState.PENDING, OrderEventKind.PAYMENT_PENDING),
    EventKind.PAYMENT_FAILED: (PaymentState.FAILED, OrderEventKind.PAYMENT_FAILED),
    EventKind.PAYMENT_CANCELLED: (PaymentState.CANCELLED, OrderEventKind.PAYMENT_CANCELLED),
}


@dataclass(frozen=True)
class Applied:
    """What one event did: accepted | duplicate | flagged."""

    status: str
    order_id: int | None
    message: str = ""


def order_money(order: Order) -> Money:
    return Money(order.total_minor, order.currency)


lock_order = orders.lock_order


def order_payments(db: Session, order_id: int) -> list[Payment]:
    query = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    return list(db.scalars(query.with_for_update().execution_options(populate_existing=True)))


def paid_total(payments) -> int:
    return sum(p.amount_minor for p in payments if p.kind == PAID and p.status == COUNTED)


def refunded_total(payments, *, pending: bool = False) -> int:
    """Refunded so far; with ``pending``, also what is on its way back."""
    counted = [(REFUNDED, COUNTED)] + ([(REFUND_PENDING, PaymentState.PENDING)] if pending else [])
    return sum(p.amount_minor for p in payments if (p.kind, p.status) in counted)


def refundable_minor(payments) -> int:
    """What may still be refunded: never below zero in our books."""
    return max(0, paid_total(payments) - refunded_total(payments, pending=True))


def refunded_for(payments: list[Payment], payment: Payment, *, pending: bool) -> int:
    """Refunded from *payment*; with ``pending``, also what is still on its way."""
    kinds = {REFUNDED, REFUND_PENDING} if pending else {REFUNDED}
    return sum(
        p.amount_minor
        for p in payments
        if p.kind in kinds
        and p.status in (COUNTED, PaymentState.PENDING)
        and (p.raw or {}).get("payment_reference") == payment.provider_reference
        and p.gateway == payment.gateway
    )


def payment_status_of(total: int, paid: int, refunded: int) -> PaymentStatus:
    if paid <= 0:
        return PaymentStatus.UNPAID
    if refunded >= paid:
        return PaymentStatus.REFUNDED
    if refunded > 0:
        return PaymentStatus.PARTIALLY_REFUNDED
    if paid < total:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.PAID


def settle(db: Session, order: Order, *, actor: str = orders.SYSTEM) -> str:
    """The order's payment status from its ledger rows, after a money movement;
    returns the status it had. Announces ``order.paid`` when it becomes paid,
    and applies the store's ``confirm_paid_orders`` and ``restock_on_full_refund``."""
    db.flush()
    payments = order_payments(db, order.id)
    before = order.payment_status
    after = payment_status_of(order.total_minor, paid_total(payments), refunded_total(payments))
    if after == before:
        return before
    order.payment_status = after
    db.add(
        OrderEvent(
            order_id=order.id,
            kind=OrderEventKind.PAYMENT_STATUS,
            actor=actor,
            from_status=before,
            to_status=after,
            message="",
        )
    )
    if after == PaymentStatus.PAID:
        orders.announce(db, OutboxEventKind.ORDER_PAID, order, previous_payment_status=before)
        orders.confirm_if_paid(db, order)
    if after == PaymentStatus.REFUNDED and orders.flag(db, "restock_on_full_refund"):
        orders.return_stock(db, order, MovementReason.ORDER_REFUNDED, actor)
    return before


def add_event(
    db: Session,
    order: Order,
    kind: str,
    message: str,
    *,
    actor: str = orders.SYSTEM,
    data: dict[str, Any] | None = None,
    to_status: str | None = None,
) -> None:
    db.add(
        OrderEvent(
            order_id=order.id,
            kind=kind,
            actor=actor,
            message=message,
            data=data,
            from_status=order.payment_status if to_status else None,
            to_status=to_status,
        )
    )


def insert_once(db: Session, row: Payment) -> bool:
    """False when the unique key already exists (a concurrent twin won the race)."""
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        return False
    return True


def find_payment(db: Session, gateway: str, reference: str, kind: str) -> Payment | None:
    return db.scalar(
        select(Payment)
        .where(
            Payment.gateway == gateway,
            Payment.provider_reference == reference,
            Payment.kind == kind,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def apply_event(db: Session, event: GatewayEvent) -> Applied:
    order = _locked_order_of(db, event)
    if order is None:
        return Applied(
            FLAGGED,
            None,
            f"no order matches reference {event.order_reference!r}"
            f" / payment {event.payment_reference!r}",
        )
    if find_payment(db, event.gateway, event.provider_reference, str(event.kind)):
        return Applied(DUPLICATE, order.id)
    if event.kind == EventKind.REFUND_SUCCEEDED:
        return _apply_refund(db, order, event)
    return _apply_payment(db, order, event)


def _locked_order_of(db: Session, event: GatewayEvent) -> Order | None:
    order_id = _as_id(event.order_reference)
    if order_id is None and event.payment_reference:
        paid = db.scalar(
            select(Payment.order_id).where(
                Payment.gateway == event.gateway,
                Payment.kind == PAID,
                Payment.provider_reference == event.payment_reference,
            )
        )
        order_id = paid
    return lock_order(db, order_id) if order_id is not None else None


def _as_id(reference: str | None) -> int | None:
    # Our order reference is the order's id: numeric, so it suits Robokassa's InvId too.
    # ASCII digits only: "²" passes isdigit() and int() refuses it.
    if reference is None or not (reference.isascii() and reference.isdigit()):
        return None
    return int(reference) if len(reference) <= 18 else None


def _row(
    order: Order, event: GatewayEvent, status: str, amount: Money | None = None, **extra: Any
) -> Payment:
    money = amount or event.amount
    raw = {
        "payment_reference": event.payment_reference or event.provider_reference,
        "event_id": event.event_id,
        "occurred_at": event.occurred_at.isoformat(),
        **extra,
    }
    return Payment(
        order_id=order.id,
        gateway=event.gateway,
        kind=str(event.kind),
        provider_reference=event.provider_reference,
        status=status,
        amount_minor=money.amount,
        currency=money.currency,
        raw=raw,
    )


def _apply_payment(db: Session, order: Order, event: GatewayEvent) -> Applied:
    if event.kind != EventKind.PAYMENT_SUCCEEDED:
        status, timeline = _OTHER_PAYMENT_EVENTS[event.kind]
        if insert_once(db, _row(order, event, status)):
            add_event(
                db,
                order,
                timeline,
                f"{event.gateway}: payment {event.provider_reference} {status}",
                data={"amount": str(event.amount)},
            )
            if status == PaymentState.FAILED:
                orders.announce(
                    db,
                    OutboxEventKind.PAYMENT_FAILED,
                    order,
                    payment={"gateway": event.gateway, "reference": event.provider_reference},
                )
        return Applied(ACCEPTED, order.id)
    problem = _payment_problem(order, event)
    if problem:
        if insert_once(db, _row(order, event, PaymentState.FLAGGED, problem=problem)):
            add_event(
                db,
                order,
                OrderEventKind.PAYMENT_FLAGGED,
                problem,
                data={
                    "gateway": event.gateway,
                    "reference": event.provider_reference,
                    "amount": str(event.amount),
                    "expected": str(order_money(order)),
                },
            )
        return Applied(FLAGGED, order.id, problem)
    if not insert_once(db, _row(order, event, COUNTED)):
        return Applied(DUPLICATE, order.id)
    add_event(
        db,
        order,
        OrderEventKind.PAYMENT_RECEIVED,
        f"{event.gateway}: {event.amount} received ({event.provider_reference})",
        data={"amount": str(event.amount)},
    )
    settle(db, order)
    return Applied(ACCEPTED, order.id)


def _payment_problem(order: Order, event: GatewayEvent) -> str:
    expected = order_money(order)
    if event.amount.currency != expected.currency:
        return (
            f"{event.gateway} reported a payment in {event.amount.currency}; the order is "
            f"in {expected.currency}. Not marked paid: check it with the provider."
        )
    if event.amount != expected:
        return (
            f"{event.gateway} reported {event.amount}; the order total is {expected}. "
            "Not marked paid: check it with the provider."
        )
    if order.payment_status != PaymentStatus.UNPAID:
        return (
            f"{event.gateway} reported another payment of {event.amount} for an order "
            f"already {order.payment_status}: possible double payment, refund it."
        )
    return ""


def _apply_refund(db: Session, order: Order, event: GatewayEvent) -> Applied:
    payments = order_payments(db, order.id)
    reference = event.payment_reference or ""
    paid = next(
        (
            p
            for p in payments
            if p.kind == PAID
            and p.status == COUNTED
            and p.gateway == event.gateway
            and p.provider_reference == reference
        ),
        None,
    )
    problem = _refund_problem(order, event, paid, payments)
    amount = event.amount
    if not problem and event.cumulative:
        # The event carries the total refunded so far: book only the difference.
        amount = event.amount - Money(refunded_for(payments, paid, pending=False), order.currency)
        if amount.amount <= 0:
            insert_once(db, _row(order, event, PaymentState.SUPERSEDED, Money(0, order.currency)))
            return Applied(DUPLICATE, order.id)
    if problem:
        if insert_once(db, _row(order, event, PaymentState.FLAGGED, problem=problem)):
            add_event(
                db,
                order,
                OrderEventKind.REFUND_FLAGGED,
                problem,
                data={"gateway": event.gateway, "reference": event.provider_reference},
            )
        return Applied(FLAGGED, order.id, problem)
    if not insert_once(db, _row(order, event, COUNTED, amount)):
        return Applied(DUPLICATE, order.id)
    _settle_pending(payments, event)
    add_event(
        db,
        order,
        OrderEventKind.REFUND,
        f"{event.gateway}: {amount} refunded ({event.provider_reference})",
        data={"amount": str(amount)},
    )
    settle(db, order)
    announce_refund(db, order, amount, RefundMethod.PROVIDER, event.gateway, "")
    return Applied(ACCEPTED, order.id)


def _refund_problem(
    order: Order, event: GatewayEvent, paid: Payment | None, payments: list[Payment]
) -> str:
    if paid is None:
        return (
            f"{event.gateway} reported a refund of {event.amount} for payment "
            f"{event.payment_reference!r}, which this order has not received."
        )
    if event.amount.currency != paid.currency:
        return (
            f"{event.gateway} reported a refund in {event.amount.currency}; the payment "
            f"was in {paid.currency}."
        )
    already = 0 if event.cumulative else refunded_for(payments, paid, pending=False)
    if already + event.amount.amount > paid.amount_minor:
        return (
            f"{event.gateway} reported a refund of {event.amount}, more than is left of "
            f"the payment ({Money(paid.amount_minor - already, paid.currency)})."
        )
    return ""


def _settle_pending(payments: list[Payment], event: GatewayEvent) -> None:
    """A refund we started as pending is now confirmed: stop reserving it twice."""
    for row in payments:
        if (
            row.kind == REFUND_PENDING
            and row.gateway == event.gateway
            and row.provider_reference == event.provider_reference
        ):
            row.status = PaymentState.SETTLED


# -- money recorded by hand, and the refunds of every method ------------------


def _audit(db: Session, actor: str, action: str, order: Order, after: dict) -> None:
    db.add(
        AuditEntry(actor=actor, action=action, entity="order", entity_id=str(order.id), after=after)
    )


def _manual_reference() -> str:
    return "manual-" + secrets.token_hex(8)


def record_payment(
    db: Session, order: Order, amount: Money, *, actor: str, gateway: str, note: str = ""
) -> Payment:
    """Money received outside any gateway's notifications (a bank transfer, cash
    to the courier), recorded by a person on the locked order."""
    payments = order_payments(db, order.id)
    due = order.total_minor - paid_total(payments) + refunded_total(payments)
    if amount.currency != order.currency or amount.amount <= 0:
        raise PaymentTooLarge("enter an amount greater than zero", due_minor=max(due, 0))
    if amount.amount > due:
        raise PaymentTooLarge("more than is left to pay", due_minor=max(due, 0))
    reference = _manual_reference()
    row = Payment(
        order_id=order.id,
        gateway=gateway,
        kind=PAID,
        status=COUNTED,
        provider_reference=reference,
        amount_minor=amount.amount,
        currency=amount.currency,
        raw={"payment_reference": reference, "recorded_by": actor, "note": note},
    )
    db.add(row)
    add_event(
        db,
        order,
        OrderEventKind.PAYMENT_RECEIVED,
        f"{gateway}: {amount} recorded" + (f" ({note})" if note else ""),
        actor=actor,
        data={"amount": str(amount), "recorded": True},
    )
    settle(db, order, actor=actor)
    _audit(
        db,
        actor,
        "order.payment",
        order,
        {"gateway": gateway, "amount_minor": amount.amount, "currency": amount.currency},
    )
    return row


def check_refund(order: Order, payments: list[Payment], amount: Money) -> None:
    left = refundable_minor(payments)
    if left <= 0:
        raise NothingToRefund("this order has no payment left to refund", refundable_minor=0)
    if amount.currency != order.currency or amount.amount <= 0:
        raise RefundTooLarge("enter an amount greater than zero", refundable_minor=left)
    if amount.amount > left:
        raise RefundTooLarge("more than is left to refund", refundable_minor=left)


def refund_source(payments: list[Payment]) -> Payment | None:
    """The payment a refund comes out of: the latest with something left."""
    for payment in reversed(payments):
        if (
            payment.kind == PAID
            and payment.status == COUNTED
            and refunded_for(payments, payment, pending=True) < payment.amount_minor
        ):
            return payment
    return None


def book_refund(
    db: Session,
    order: Order,
    amount: Money,
    *,
    actor: str,
    method: RefundMethod,
    reason: str = "",
    source: Payment | None = None,
    reference: str | None = None,
    pending: bool = False,
) -> Payment:
    """One refund into the ledger of the locked order: made through the provider
    (``reference`` its id there, ``pending`` until it confirms) or recorded by
    hand. Refuses more than is left (``RefundTooLarge``); one audit entry each."""
    if method == RefundMethod.RECORDED and not reason.strip():
        raise ReasonRequired("say why and how the money was returned")
    payments = order_payments(db, order.id)
    check_refund(order, payments, amount)
    source = source or refund_source(payments)
    gateway = source.gateway if source is not None else MANUAL_GATEWAY
    row = Payment(
        order_id=order.id,
        gateway=gateway,
        kind=REFUND_PENDING if pending else REFUNDED,
        status=PaymentState.PENDING if pending else COUNTED,
        provider_reference=reference or _manual_reference(),
        amount_minor=amount.amount,
        currency=amount.currency,
        raw={
            "payment_reference": source.provider_reference if source is not None else None,
            "by": actor,
            "method": str(method),
            "reason": reason,
        },
    )
    db.add(row)
    status = PaymentState.PENDING if pending else COUNTED
    add_event(
        db,
        order,
        OrderEventKind.REFUND,
        f"{gateway}: {amount} refund {status} ({row.provider_reference})"
        + (f": {reason}" if reason else ""),
        actor=actor,
        data={"amount": str(amount), "status": str(status), "method": str(method)},
    )
    settle(db, order, actor=actor)
    if not pending:
        announce_refund(db, order, amount, method, gateway, reason)
    _audit(
        db,
        actor,
        "order.refund",
        order,
        {
            "gateway": gateway,
            "amount_minor": amount.amount,
            "currency": amount.currency,
            "status": str(status),
            "method": str(method),
            "reason": reason,
        },
    )
    return row


def announce_refund(
    db: Session, order: Order, amount: Money, method: RefundMethod, gateway: str, reason: str
) -> None:
    orders.announce(
        db,
        OutboxEventKind.ORDER_REFUNDED,
        order,
        refund={
            "amount_minor": amount.amount,
            "currency": amount.currency,
            "method": str(method),
            "gateway": gateway,
        },
    )
