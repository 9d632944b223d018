"""Migration 8o01 on a store's data: "paid" and "refunded" leave the fulfilment flow,
the ledger gets the rows the orders claimed, payment status comes from the ledger."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import insert, select

from backoffice.models import Order, OrderEvent, Payment, StoreSetting

PATH = Path(__file__).parents[3] / "migrations/tenant/versions/8o01_order_lifecycle.py"


def migration():
    spec = importlib.util.spec_from_file_location("m8o01", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_custom_flows_lose_paid_and_refunded():
    flow = [
        {"code": "new", "next": ["paid", "cancelled"]},
        {"code": "paid", "next": ["packed", "refunded"]},
        {"code": "packed", "next": ["refunded", "shipped"]},
        {"code": "refunded", "next": []},
    ]
    assert migration().convert_flow(flow) == [
        {"code": "new", "next": ["packed", "cancelled"]},
        {"code": "packed", "next": ["shipped"]},
    ]


def test_orders_get_a_fulfilment_status_and_a_ledger_that_agree(store):
    rows = {  # number: (status, payment_status, shipped before)
        "P": ("paid", "paid", False),
        "RN": ("refunded", "refunded", False),
        "RS": ("refunded", "refunded", True),
        "SU": ("shipped", "unpaid", True),
        "DP": ("delivered", "paid", True),
    }
    with store.engine.begin() as conn:
        ids = {}
        for number, (status, payment, shipped) in rows.items():
            ids[number] = conn.execute(
                insert(Order).values(
                    number=number,
                    status=status,
                    payment_status=payment,
                    currency="EUR",
                    total_minor=1000,
                )
            ).inserted_primary_key[0]
            if shipped:
                conn.execute(
                    insert(OrderEvent).values(
                        order_id=ids[number], kind="status_changed", to_status="shipped"
                    )
                )
        conn.execute(
            insert(Payment).values(
                order_id=ids["DP"],
                gateway="stripe",
                provider_reference="pi_1",
                kind="payment.succeeded",
                status="succeeded",
                amount_minor=1000,
                currency="EUR",
            )
        )
        conn.execute(
            insert(StoreSetting).values(
                key="order_statuses",
                value=json.dumps([{"code": "new", "next": ["paid"]}, {"code": "paid"}]),
            )
        )
        module = migration()
        with Operations.context(MigrationContext.configure(conn)):
            module._convert_orders()
            module._convert_flows()
    with store.session() as db:
        got = {
            o.number: (o.status, o.payment_status)
            for o in db.scalars(select(Order).where(Order.id.in_(ids.values())))
        }
        ledger = db.execute(
            select(Payment.order_id, Payment.kind, Payment.gateway).order_by(Payment.id)
        ).all()
        flow = json.loads(db.get(StoreSetting, "order_statuses").value)
    assert got == {
        "P": ("confirmed", "paid"),
        "RN": ("cancelled", "refunded"),
        "RS": ("delivered", "refunded"),
        "SU": ("shipped", "unpaid"),
        "DP": ("delivered", "paid"),
    }
    assert sorted((o, k) for o, k, _g in ledger) == sorted(
        [
            (ids["DP"], "payment.succeeded"),
            (ids["P"], "payment.succeeded"),
            (ids["RN"], "payment.succeeded"),
            (ids["RN"], "refund.succeeded"),
            (ids["RS"], "payment.succeeded"),
            (ids["RS"], "refund.succeeded"),
        ]
    )
    assert flow == [{"code": "new", "next": []}]
