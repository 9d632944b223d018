"""Fixtures of the backup tests: a private control plane with three servers.

``maria`` (default) and ``maria2`` are the same MariaDB reached through two
URL spellings, which is enough for a move to change server; ``lite`` keeps
stores as SQLite files, for the cross-dialect restores.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from backoffice.schema import store_schema
from tenancy.backups.dump import store_tables
from tenancy.control import ControlPlane
from tenancy.db import make_engine
from tenancy.migrate import init_control
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.settings import resolve
from tests.conftest import RUN_PREFIX, unique_slug

SECOND_SPELLING = "mysql+pymysql://root@localhost:3306/"


@pytest.fixture(scope="module")
def bk_settings(mysql_admin_url, test_keys, tmp_path_factory):
    control_db = f"{RUN_PREFIX}_bk{secrets.token_hex(2)}"
    engine = create_engine(mysql_admin_url)
    with engine.begin() as conn:
        conn.execute(
            text(f"CREATE DATABASE `{control_db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    engine.dispose()
    here = tmp_path_factory.mktemp("bk-here")
    return resolve(
        {
            "backoffice.control_url": str(make_url(mysql_admin_url).set(database=control_db)),
            "backoffice.keys": test_keys,
            "backoffice.db_prefix": f"{RUN_PREFIX}_",
            "backoffice.environment": "test",
            "backoffice.backup_dir": str(here / "backups"),
            "backoffice.placement": "default",
        },
        here=here,
        environ={},
    )


@pytest.fixture(scope="module")
def bk(bk_settings, mysql_admin_url):
    control = ControlPlane(bk_settings)
    init_control(control.engine)
    with control.session() as session:
        control.add_server(session, "maria", mysql_admin_url, default=True)
        control.add_server(session, "maria2", SECOND_SPELLING)
        control.add_server(session, "lite", f"sqlite:///{bk_settings['here']}/stores")
        session.commit()
    yield control
    control.dispose()


@pytest.fixture
def new_store(bk):
    def make(server: str | None = None, slug: str | None = None):
        return Provisioner(bk, store_schema).create(
            StoreRequest(slug=slug or unique_slug("bk"), name="Backup Shop", server=server)
        )

    return make


def runtime_engine(control, tenant):
    return make_engine(control.runtime_url(tenant), poolclass=NullPool)


BIG_TEXT = "Große Teekanne — 大きな急須 🫖 " + secrets.token_hex(32_000)  # ~64 KB: TEXT


# Escapes that JSON writers disagree on: control characters (MariaDB writes
# \u001F, Python \u001f), a literal backslash-u, quotes, U+2028, DEL, emoji.
HOSTILE = 'a"b\\c\nd\te\x01\x0b\x1f /\\u001F ü€😀\u2028\x7f </script>'


def fill(engine, *, orders: int = 40) -> None:
    """Rows with unicode, NULLs, large text, big integers, timestamps with microseconds."""
    now = datetime(2026, 3, 1, 12, 30, 45)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, description, price_minor, stock, is_active, "
                "created_at, updated_at) VALUES (:s, :n, :d, :p, 5, 1, :t, :t)"
            ),
            [
                {
                    "s": "TEA-1",
                    "n": "Чай «Ассам» ☕",
                    "d": BIG_TEXT,
                    "p": 9_007_199_254_740_993,
                    "t": now,
                },
                {"s": "TEA-2", "n": "Sencha 煎茶", "d": "", "p": 0, "t": now},
            ],
        )
        conn.execute(
            text(
                "INSERT INTO customers (email, name, phone, created_at, updated_at) "
                "VALUES (:e, :n, '', :t, :t)"
            ),
            [{"e": f"c{i}@example.com", "n": f"Клиент {i} ✓", "t": now} for i in range(5)]
            + [{"e": "odd@example.com", "n": HOSTILE, "t": now}],
        )
        key = conn.dialect.identifier_preparer.quote_identifier("key")
        conn.execute(
            text(f"INSERT INTO store_settings ({key}, value) VALUES (:k, :v)"),
            [{"k": "name", "v": "Ünïcödé shop"}, {"k": "Zeta", "v": ""}, {"k": "alpha", "v": "x"}],
        )
        for n in range(orders):
            add_order(conn, n, lines=3, created=now)


def add_order(conn, n: int, *, lines: int, created) -> None:
    order_id = conn.execute(
        text(
            "INSERT INTO orders (number, status, payment_status, customer_id, customer_name, "
            "customer_email, customer_phone, shipping_address, currency, subtotal_minor, "
            "shipping_minor, total_minor, source, external_reference, status_token, locale, "
            "created_at, updated_at) VALUES (:num, 'new', 'unpaid', NULL, :name, '', '', :addr, "
            "'EUR', :total, 0, :total, 'checkout', NULL, NULL, 'uk', :t, :t)"
        ),
        {
            "num": f"N-{n}-{secrets.token_hex(3)}",
            "name": "Олена Коваленко",
            "addr": "вул. Хрещатик, 1\nКиїв",
            "total": 100 * lines,
            "t": created,
        },
    ).lastrowid
    conn.execute(
        text(
            "INSERT INTO order_lines (order_id, product_id, sku, name, quantity, "
            "unit_price_minor, total_minor) VALUES (:o, NULL, 'TEA-1', 'Чай', 1, 100, 100)"
        ),
        [{"o": order_id} for _ in range(lines)],
    )
    conn.execute(
        text(
            "INSERT INTO order_events (order_id, kind, actor, from_status, to_status, message, "
            "data, created_at) VALUES (:o, 'created', 'system', NULL, 'new', '', :d, :t)"
        ),
        {"o": order_id, "d": '{"ip": "127.0.0.1", "note": "привіт"}', "t": created},
    )


def snapshot_rows(engine) -> dict[str, list[tuple]]:
    """Every row of every store table, typed by reflection, in primary-key order."""
    with engine.connect() as conn:
        tables = store_tables(conn)
        metadata = MetaData()
        return {
            t.name: [
                tuple(r)
                for r in conn.execute(
                    select(t.to_metadata(metadata)).order_by(*t.primary_key.columns)
                )
            ]
            for t in tables
        }


def database_names(root_url: str, database_prefix: str) -> set[str]:
    engine = create_engine(root_url)
    with engine.connect() as conn:
        names = set(
            conn.scalars(
                text(
                    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE :p"
                ),
                {"p": database_prefix.replace("_", r"\_") + "%"},
            )
        )
    engine.dispose()
    return names
