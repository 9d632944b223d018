"""The core's rules for money: authenticated gateway events -> order state.

Every function runs inside the caller's transaction and locks the order row
(``SELECT ... FOR UPDATE``) before reading its state, so the webhook, its
retries, a second event type for the same payment and a refund from the
order page are applied one after the other. Reads of the order's payments are
locking reads too: under REPEATABLE READ they see the latest committed rows,
not the snapshot the transaction may have taken earlier.

Payment rows: ``kind`` is the event kind (``payment.succeeded``,
``refund.succeeded``, ``refund.pending``...), unique per
``(gateway, provider_reference, kind)`` so a repeated event is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.models import Order, OrderEvent, Payment
from payments.interfaces import EventKind, GatewayEvent
from payments.money import Money

PAID = "payment.succeeded"
REFUNDED = "refund.succeeded"
REFUND_PENDING = "refund.pending"
COUNTED = "succeeded"  # status of the rows that move money in our books


@dataclass(frozen=True)
class Applied:
    """What one event did: accepted | duplicate | flagged."""

    status: str
    order_id: int | None
    message: str = ""


def order_money(order: Order) -> Money:
    return Money(order.total_minor, order.currency)


def lock_order(db: Session, order_id: int) -> Order | None:
    query = select(Order).where(Order.id == order_id).with_for_update()
    return db.scalar(query.execution_options(populate_existing=True))


def order_payments(db: Session, order_id: int) -> list[Payment]:
    query = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    return list(db.scalars(query.with_for_update().execution_options(populate_existing=True)))


def paid_total(payments: list[Payment]) -> int:
    return sum(p.amount_minor for p in payments if p.kind == PAID and p.status == COUNTED)


def refunded_for(payments: list[Payment], payment: Payment, *, pending: bool) -> int:
    """Refunded from *payment*; with ``pending``, also what is still on its way."""
    kinds = {REFUNDED, REFUND_PENDING} if pending else {REFUNDED}
    return sum(
        p.amount_minor
        for p in payments
        if p.kind in kinds
        and p.status in (COUNTED, "pending")
        and (p.raw or {}).get("payment_reference") == payment.provider_reference
        and p.gateway == payment.gateway
    )


def settle_payment_status(order: Order, payments: list[Payment]) -> None:
    """paid / partially_refunded / refunded from the rows; never back to unpaid."""
    paid = paid_total(payments)
    refunded = sum(p.amount_minor for p in payments if p.kind == REFUNDED and p.status == COUNTED)
    if paid <= 0:
        return
    if refunded >= paid:
        order.payment_status = "refunded"
    elif refunded > 0:
        order.payment_status = "partially_refunded"
    else:
        order.payment_status = "paid"


def add_event(
    db: Session,
    order: Order,
    kind: str,
    message: str,
    *,
    actor: str = "system",
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
            "flagged",
            None,
            f"no order matches reference {event.order_reference!r}"
            f" / payment {event.payment_reference!r}",
        )
    if find_payment(db, event.gateway, event.provider_reference, str(event.kind)):
        return Applied("duplicate", order.id)
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
        status = str(event.kind).split(".", 1)[1]  # pending / failed / cancelled
        if insert_once(db, _row(order, event, status)):
            add_event(
                db,
                order,
                f"payment_{status}",
                f"{event.gateway}: payment {event.provider_reference} {status}",
                data={"amount": str(event.amount)},
            )
        return Applied("accepted", order.id)
    problem = _payment_problem(order, event)
    if problem:
        if insert_once(db, _row(order, event, "flagged", problem=problem)):
            add_event(
                db,
                order,
                "payment_flagged",
                problem,
                data={
                    "gateway": event.gateway,
                    "reference": event.provider_reference,
                    "amount": str(event.amount),
                    "expected": str(order_money(order)),
                },
            )
        return Applied("flagged", order.id, problem)
    if not insert_once(db, _row(order, event, COUNTED)):
        return Applied("duplicate", order.id)
    add_event(
        db,
        order,
        "payment_received",
        f"{event.gateway}: {event.amount} received ({event.provider_reference})",
        data={"amount": str(event.amount)},
        to_status="paid",
    )
    order.payment_status = "paid"
    return Applied("accepted", order.id)


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
    if order.payment_status != "unpaid":
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
            insert_once(db, _row(order, event, "superseded", Money(0, order.currency)))
            return Applied("duplicate", order.id)
    if problem:
        if insert_once(db, _row(order, event, "flagged", problem=problem)):
            add_event(
                db,
                order,
                "refund_flagged",
                problem,
                data={"gateway": event.gateway, "reference": event.provider_reference},
            )
        return Applied("flagged", order.id, problem)
    if not insert_once(db, _row(order, event, COUNTED, amount)):
        return Applied("duplicate", order.id)
    _settle_pending(payments, event)
    payments = order_payments(db, order.id)
    before = order.payment_status
    settle_payment_status(order, payments)
    add_event(
        db,
        order,
        "refund",
        f"{event.gateway}: {amount} refunded ({event.provider_reference})",
        data={"amount": str(amount)},
    )
    if order.payment_status != before:
        db.add(
            OrderEvent(
                order_id=order.id,
                kind="payment_status",
                from_status=before,
                to_status=order.payment_status,
                message="",
            )
        )
    return Applied("accepted", order.id)


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
            row.status = "settled"
