"""The order list's query plans on MariaDB: newest first, from the index alone.

MariaDB's ``ANALYZE FORMAT=JSON`` runs the very statement the list page runs
(``orders.services.filtered``) and reports what it read: a page, searched or
not, is read from one index in its order (no sort, no table rows), and an
unsearched page reads just its own entries.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from backoffice.models import Order
from backoffice.orders import services
from backoffice.orders.forms import parse_filter
from tests.backoffice.admin_world import World

CODES = ("new", "confirmed", "paid", "shipped", "delivered", "cancelled", "refunded")
NAMES = (
    "Olena Kovalenko",
    "Ivan Petrenko",
    "Mary Smith",
    "Taras Melnyk",
    "Anna Bondarenko",
    "John Brown",
    "Sofia Tkachenko",
    "Andriy Shevchenko",
    "Oksana Sokolova",
    "Dmytro Ivanov",
)
ORDERS = 3000


@pytest.fixture(scope="module")
def world(mysql_control, mysql_settings):
    world = World(mysql_control, mysql_settings, demo_orders=0)
    start = datetime(2026, 1, 1)
    rows = [
        {
            "number": f"N-{i:05d}",
            "status": ("paid", "new", "delivered")[i % 3],
            "payment_status": "paid" if i % 3 != 1 else "unpaid",
            "customer_name": NAMES[i % len(NAMES)],
            "customer_email": f"c{i}@example.com",
            "currency": "EUR",
            "subtotal_minor": 1000,
            "total_minor": 1000,
            "source": "checkout",
            "created_at": start + timedelta(minutes=i),
            "updated_at": start + timedelta(minutes=i),
        }
        for i in range(ORDERS)
    ]
    with world.engine.begin() as conn:
        conn.execute(insert(Order), rows)
        conn.exec_driver_sql("ANALYZE TABLE orders")
    yield world
    world.dispose()


def plan(world, **query) -> dict:
    """What MariaDB did for one page of the list with this filter."""
    f = parse_filter(query, CODES)
    assert not f.errors
    statement, params = services.filtered(f, ZoneInfo("UTC"))
    statement = statement.limit(services.PER_PAGE + 1)
    compiled = statement.compile(dialect=world.engine.dialect)
    params = compiled.construct_params(params)
    with world.engine.connect() as conn:
        rows = conn.exec_driver_sql(str(compiled), params).all()
        analyzed = conn.exec_driver_sql("ANALYZE FORMAT=JSON " + str(compiled), params).scalar()
    table = json.loads(analyzed)["query_block"]["nested_loop"][0].get("table", {})
    return {
        "rows": len(rows),
        "key": table.get("key"),
        "read": table.get("r_rows"),
        "index_only": table.get("using_index", False),
        "sorted": "filesort" in analyzed,
    }


def test_a_searched_status_is_read_from_the_index_alone(world):
    seen = plan(world, status="paid", q="Melnyk")
    # 1 order in 10 is Melnyk's: 51 among the ~510 newest paid ones, of 1000.
    assert 51 <= seen.pop("read") <= 520
    assert seen == {
        "rows": 51,
        "key": "ix_orders_status_newest",
        "index_only": True,
        "sorted": False,
    }


def test_a_search_without_status_is_read_from_the_index_alone(world):
    seen = plan(world, q="Melnyk")
    assert 51 <= seen.pop("read") <= 520
    assert seen == {"rows": 51, "key": "ix_orders_newest", "index_only": True, "sorted": False}


def test_the_plain_list_and_one_status_read_their_page_only(world):
    assert plan(world) == {
        "rows": 51,
        "key": "ix_orders_newest",
        "read": 51,
        "index_only": True,
        "sorted": False,
    }
    assert plan(world, status="new") == {
        "rows": 51,
        "key": "ix_orders_status_newest",
        "read": 51,
        "index_only": True,
        "sorted": False,
    }
