"""What the benchmarks share: a throwaway control plane on MariaDB, clean-up, figures.

Every run gets its own database-name prefix (``b<3 chars>_``) and drops every
database and user carrying it at the end, whatever happened in between.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import statistics
import time
from collections.abc import Iterator, Sequence

import pymysql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tenancy.control import ControlPlane
from tenancy.keyring import generate_key
from tenancy.migrate import init_control
from tenancy.settings import resolve

DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/"
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def run_prefix() -> str:
    return "b" + "".join(secrets.choice(ALPHABET) for _ in range(3))


def pymysql_args(url: str, database: str | None = None) -> dict:
    """PyMySQL connect() arguments for a SQLAlchemy mysql+pymysql URL."""
    parsed = make_url(url)
    args = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
        "charset": "utf8mb4",
        "autocommit": True,
        # A floor: no TLS handshake (PyMySQL would build a TLS context per connect).
        "ssl_disabled": True,
    }
    if database:
        args["database"] = database
    return args


def admin_connection(url: str, database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(**pymysql_args(url, database))


@contextlib.contextmanager
def bench_control(url: str, prefix: str) -> Iterator[ControlPlane]:
    """A ControlPlane whose control DB and stores live under *prefix* on MariaDB."""
    control_db = f"{prefix}_control"
    with contextlib.closing(admin_connection(url)) as conn:
        conn.cursor().execute(
            f"CREATE DATABASE `{control_db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    settings = resolve(
        {
            "backoffice.control_url": str(make_url(url).set(database=control_db)),
            "backoffice.keys": generate_key(),
            "backoffice.db_prefix": f"{prefix}_",
            "backoffice.environment": "test",
        },
        here=os.getcwd(),
        environ={},
    )
    control = ControlPlane(settings)
    try:
        init_control(control.engine)
        with control.session() as session:
            control.add_server(session, "maria", url, default=True)
            session.commit()
        yield control
    finally:
        control.dispose()
        drop_prefixed(url, prefix)


def drop_prefixed(url: str, prefix: str) -> int:
    """Drop every database and user whose name starts with ``<prefix>_``."""
    pattern = prefix + r"\_%"
    with contextlib.closing(admin_connection(url)) as conn:
        cur = conn.cursor()
        cur.execute(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE %s",
            (pattern,),
        )
        databases = [row[0] for row in cur.fetchall()]
        for name in databases:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute("SELECT User, Host FROM mysql.user WHERE User LIKE %s", (pattern,))
        for user, host in cur.fetchall():
            cur.execute("DROP USER IF EXISTS %s@%s", (user, host))
    return len(databases)


def settle(conn: pymysql.Connection, *, timeout: float = 60.0, quiet: int = 20) -> float:
    """Wait (at most *timeout* seconds) until InnoDB has done writing back what
    filling a store left behind (fewer than *quiet* writes a second, twice in a
    row), so that its flushing does not compete with the requests being timed;
    returns the seconds waited."""
    started = time.perf_counter()
    cur = conn.cursor()

    def writes() -> int:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Innodb_data_writes'")
        return int(cur.fetchone()[1])

    calm, last = 0, writes()
    while calm < 2 and time.perf_counter() - started < timeout:
        time.sleep(1)
        now = writes()
        calm = calm + 1 if now - last < quiet else 0
        last = now
    return time.perf_counter() - started


class Timer:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def growth(values: Sequence[float]) -> float:
    """Median of the last 10% over the median of the first 10% (in creation order)."""
    tenth = max(1, len(values) // 10)
    return median(values[-tenth:]) / median(values[:tenth])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def headline(name: str, value: str, baseline: str, ratio: float, target: str) -> str:
    return f"{name}: {value} (baseline {baseline}, ratio {ratio:.2f}, target {target})"


def machine_loop_ms(repeats: int = 5) -> float:
    """How fast this machine runs Python right now: the best of *repeats* runs of
    one fixed loop (a million additions), in ms. Wall-clock figures from two
    machines, or from one shared VM at two times, compare only next to it
    (docs/benchmarks.md records it with each run)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def fill_orders(engine, orders: int) -> None:
    """*orders* paid orders with 3 lines and one event each, generated by the server
    (MariaDB's SEQUENCE engine) so that filling takes seconds, not minutes; one product."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, description, price_minor, stock, "
                "is_active, created_at, updated_at) VALUES "
                "('TEA-1', 'Чай', 'Assam', 1290, 5, 1, NOW(), NOW())"
            )
        )
        conn.execute(
            text(
                "INSERT INTO orders (id, number, status, payment_status, customer_name, "
                "customer_email, customer_phone, shipping_address, currency, subtotal_minor, "
                "shipping_minor, total_minor, source, locale, created_at, updated_at) "
                "SELECT seq, CONCAT('N-', LPAD(seq, 7, '0')), 'confirmed', 'paid', "
                "CONCAT('Олена Коваленко ', seq), CONCAT('c', seq, '@example.com'), "
                "'+380 44 000 0000', 'вул. Хрещатик, 1, Київ', 'UAH', 3870 + seq % 100, 0, "
                "3870 + seq % 100, 'checkout', 'uk', NOW() - INTERVAL seq MINUTE, NOW() "
                f"FROM seq_1_to_{orders}"
            )
        )
        conn.execute(
            text(
                "INSERT INTO order_lines (order_id, product_id, sku, name, quantity, "
                "unit_price_minor, total_minor) SELECT o.seq, 1, 'TEA-1', "
                "'Assam breakfast tea, 250 g', l.seq, 1290, 1290 * l.seq "
                f"FROM seq_1_to_{orders} o, seq_1_to_3 l"
            )
        )
        conn.execute(
            text(
                "INSERT INTO order_events (order_id, kind, actor, from_status, to_status, "
                "message, data, created_at) SELECT seq, 'created', 'system', NULL, 'new', '', "
                f'\'{{"ip": "127.0.0.1"}}\', NOW() FROM seq_1_to_{orders}'
            )
        )
