"""The customer list on MariaDB: a page's cost does not grow with the store's orders.

``ANALYZE FORMAT=JSON`` runs the statement ``customers.services.customer_page``
runs and reports what MariaDB read: the page's ids in name order from
``ix_customers_name`` alone (no sort of the customers, no table rows), and a
customer's order count and last order date from ``ix_orders_customer_newest``,
for the page's 51 customers only. The same statement's rows are checked
against what the store holds: pages follow one another in name order, and the
counts and dates are each customer's own.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from backoffice.customers import services
from backoffice.models import Customer, Order
from tests.backoffice.admin_world import World

CUSTOMERS = 1500
NAMES = ("Olena Kovalenko", "Ivan Petrenko", "Mary Smith", "Taras Melnyk", "Anna Bondarenko")
START = datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def world(mysql_control, mysql_settings):
    world = World(mysql_control, mysql_settings, demo_orders=0)
    customers = [
        {
            "id": i,
            "email": f"c{i}@example.com",
            "name": NAMES[i % len(NAMES)],
            "phone": "",
            "created_at": START,
        }
        for i in range(1, CUSTOMERS + 1)
    ]
    # Customer i has i % 4 orders (a quarter have none), i minutes apart.
    orders = [
        {
            "number": f"N-{i}-{k}",
            "status": "paid",
            "payment_status": "paid",
            "customer_id": i,
            "customer_name": NAMES[i % len(NAMES)],
            "customer_email": f"c{i}@example.com",
            "currency": "EUR",
            "total_minor": 1000,
            "source": "checkout",
            "created_at": START + timedelta(minutes=i * 10 + k),
            "updated_at": START,
        }
        for i in range(1, CUSTOMERS + 1)
        for k in range(i % 4)
    ]
    with world.engine.begin() as conn:
        conn.execute(insert(Customer), customers)
        conn.execute(insert(Order), orders)
        conn.exec_driver_sql("ANALYZE TABLE customers, orders")
    yield world
    world.dispose()


def analyzed(world, q: str = "", page: int = 1) -> dict:
    """The page's rows and MariaDB's account of reading them."""
    seen = []
    with Session(world.engine) as db:
        conn = db.connection()

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append((statement, parameters))

        event.listen(world.engine, "before_cursor_execute", before)
        try:
            rows, has_next = services.customer_page(db, q=q, page=page)
        finally:
            event.remove(world.engine, "before_cursor_execute", before)
        [(statement, parameters)] = seen
        report = json.loads(
            conn.exec_driver_sql("ANALYZE FORMAT=JSON " + statement, parameters).scalar()
        )
    return {"rows": rows, "has_next": has_next, "report": report}


def blocks(node, found=None) -> list[dict]:
    """Every ``table`` entry of the report, wherever it sits."""
    found = [] if found is None else found
    if isinstance(node, dict):
        if "table_name" in node:
            found.append(node)
        for value in node.values():
            blocks(value, found)
    elif isinstance(node, list):
        for value in node:
            blocks(value, found)
    return found


def test_a_page_reads_its_own_index_entries_and_orders_of_its_customers_only(world):
    seen = analyzed(world)
    tables = blocks(seen["report"])
    [ids] = [
        t for t in tables if t["table_name"] == "customers" and t.get("key") == "ix_customers_name"
    ]
    assert ids["using_index"] is True
    assert ids["r_rows"] == services.PER_PAGE + 1
    orders = [t for t in tables if t["table_name"] == "orders"]
    assert len(orders) == 2  # the count and the last date
    for table in orders:
        assert table["key"] == "ix_orders_customer_newest"
        assert table["using_index"] is True
        assert table["r_loops"] == services.PER_PAGE + 1
    assert len(seen["rows"]) == services.PER_PAGE and seen["has_next"]


def test_a_deep_page_skips_index_entries_not_rows(world):
    seen = analyzed(world, page=20)
    tables = blocks(seen["report"])
    [ids] = [t for t in tables if t.get("key") == "ix_customers_name"]
    assert ids["using_index"] is True
    assert ids["r_rows"] == 19 * services.PER_PAGE + services.PER_PAGE + 1
    for table in (t for t in tables if t["table_name"] == "orders"):
        assert table["r_loops"] == services.PER_PAGE + 1


def test_pages_follow_in_name_order_with_each_customers_own_figures(world):
    expected = world.rows(
        select(Customer.id, Customer.name, func.count(Order.id), func.max(Order.created_at))
        .outerjoin(Order, Order.customer_id == Customer.id)
        .group_by(Customer.id, Customer.name)
        .order_by(Customer.name, Customer.id)
    )
    shown, page = [], 1
    while True:
        seen = analyzed(world, page=page)
        shown += [(c.id, c.name, n, last) for c, n, last in seen["rows"]]
        if not seen["has_next"]:
            break
        page += 1
    assert page == -(-CUSTOMERS // services.PER_PAGE)
    assert shown == [tuple(row) for row in expected]
    assert {n for *_, n, _last in shown} == {0, 1, 2, 3}


def test_a_search_reads_the_name_index_alone(world):
    seen = analyzed(world, q="Melnyk")
    [ids] = [t for t in blocks(seen["report"]) if t.get("key") == "ix_customers_name"]
    assert ids["using_index"] is True
    assert {c.name for c, _n, _last in seen["rows"]} == {"Taras Melnyk"}
    assert len(seen["rows"]) == services.PER_PAGE
    by_mail = analyzed(world, q="c1499@")
    assert [c.id for c, _n, _last in by_mail["rows"]] == [1499]
