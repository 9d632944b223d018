"""The ledger on MariaDB, without HTTP: payment status, refunds that add up, never below zero."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.models import AuditEntry, Order, Payment
from backoffice.orders.enums import PaymentStatus as P
from backoffice.orders.errors import NothingToRefund, ReasonRequired, RefundTooLarge
from backoffice.payments import ledger
from backoffice.payments.enums import RefundMethod
from payments.money import Money

EUR = "EUR"


@pytest.mark.parametrize(
    "total, paid, refunded, status",
    [
        (2500, 0, 0, P.UNPAID),
        (2500, 1000, 0, P.PARTIALLY_PAID),
        (2500, 2500, 0, P.PAID),
        (2500, 2500, 500, P.PARTIALLY_REFUNDED),
        (2500, 2500, 2500, P.REFUNDED),
        (2500, 1000, 1000, P.REFUNDED),
    ],
)
def test_payment_status_of(total, paid, refunded, status):
    assert ledger.payment_status_of(total, paid, refunded) == status


def pay(store, order_id, amount=None, gateway="cod"):
    with store.session() as db, db.begin():
        order = ledger.lock_order(db, order_id)
        money = Money(order.total_minor if amount is None else amount, EUR)
        ledger.record_payment(db, order, money, actor="staff@x", gateway=gateway)


def refund(store, order_id, amount, reason="returned"):
    with store.session() as db, db.begin():
        order = ledger.lock_order(db, order_id)
        ledger.book_refund(
            db,
            order,
            Money(amount, EUR),
            actor="staff@x",
            method=RefundMethod.RECORDED,
            reason=reason,
        )


def order(store, order_id) -> Order:
    with store.session() as db:
        return db.get(Order, order_id)


def test_manual_refunds_of_a_cod_order_add_up_and_never_go_below_zero(store):
    order_id = store.place()  # 2 x 10.00 + 1 x 5.00
    with pytest.raises(NothingToRefund):
        refund(store, order_id, 100)
    pay(store, order_id, 1000)
    assert order(store, order_id).payment_status == P.PARTIALLY_PAID
    pay(store, order_id, 1500)
    assert order(store, order_id).payment_status == P.PAID
    assert order(store, order_id).status == "new"  # money never moves the fulfilment status
    refund(store, order_id, 1000)
    assert order(store, order_id).payment_status == P.PARTIALLY_REFUNDED
    with pytest.raises(RefundTooLarge) as too_much:
        refund(store, order_id, 1501)
    assert too_much.value.details == {"refundable_minor": 1500}
    with pytest.raises(ReasonRequired):
        refund(store, order_id, 100, reason=" ")
    refund(store, order_id, 1500)
    assert order(store, order_id).payment_status == P.REFUNDED
    with pytest.raises(NothingToRefund):
        refund(store, order_id, 1)
    with store.session() as db:
        rows = db.scalars(select(Payment).where(Payment.order_id == order_id)).all()
        assert [(r.gateway, r.kind, r.amount_minor) for r in rows] == [
            ("cod", "payment.succeeded", 1000),
            ("cod", "payment.succeeded", 1500),
            ("cod", "refund.succeeded", 1000),
            ("cod", "refund.succeeded", 1500),
        ]
        audits = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "order.refund").order_by(AuditEntry.id)
        ).all()
        assert [(a.after["amount_minor"], a.after["reason"]) for a in audits] == [
            (1000, "returned"),
            (1500, "returned"),
        ]
    assert store.outbox(order_id) == [
        "order.created",
        "order.paid",
        "order.refunded",
        "order.refunded",
    ]


def test_store_settings_confirm_paid_orders_and_restock_on_full_refund(store):
    store.set("confirm_paid_orders", "true")
    store.set("restock_on_full_refund", "true")
    order_id = store.place()
    pay(store, order_id)
    assert order(store, order_id).status == "confirmed"
    refund(store, order_id, 2500)
    assert store.stock() == {"TEA-1": 10, "TEA-2": 3}
    assert [m for m in store.movements(order_id) if m[0] > 0] == [
        (2, "order_refunded"),
        (1, "order_refunded"),
    ]
