"""Benchmark: moving a store to another MariaDB server while it is being written.

    python scripts/bench_move.py            # 100,000 orders / 300,000 lines
    python scripts/bench_move.py --quick    # 5,000 orders, under a minute

A store on the main server (``BACKOFFICE_BENCH_MYSQL_URL``, default
127.0.0.1:3306) is filled with orders, then moved to a second server
(``BACKOFFICE_BENCH_TARGET_URL``, default 127.0.0.1:3307: start one with
``scripts/extra_mariadb.sh start 3307``) while a thread writes to it the way a
web process does: it finds the store through the directory (cached for
``tenant_cache_ttl`` = 5 s) and the engine registry, answers a busy store or a
database error like the app's 503 (drop the cached entry, retry 10 ms later),
and records every acknowledged write (an order inserted with a line, an order
updated, an order deleted, in turns). After the move every acknowledged write
is looked up in the new database.

The baseline is the move as it was (``offline``: the store is ``moving``, 503,
for the whole copy), from the second server back to the first, under the same
writer; ours moves it from the first to the second. Ends with one line per
figure: ``<name>: <value> (baseline <value>, ratio <r>, target <t>)``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import secrets
import sys
import threading
import time
from collections import Counter

from benchlib import fill_orders
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from backoffice.schema import store_schema
from tenancy.backups.restore import Copier
from tenancy.control import ControlPlane
from tenancy.db import make_engine
from tenancy.directory import TenantDirectory
from tenancy.keyring import generate_key
from tenancy.migrate import init_control
from tenancy.models import Job
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.registry import EngineRegistry
from tenancy.settings import resolve

MYSQL_URL = os.environ.get("BACKOFFICE_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")
TARGET_URL = os.environ.get("BACKOFFICE_BENCH_TARGET_URL", "mysql+pymysql://root@127.0.0.1:3307/")

INSERT_ORDER = text(
    "INSERT INTO orders (number, status, payment_status, customer_name, customer_email, "
    "customer_phone, shipping_address, currency, subtotal_minor, shipping_minor, total_minor, "
    "source, locale, created_at, updated_at) VALUES (:number, 'new', 'unpaid', 'Writer', '', '', "
    "'', 'EUR', 100, 0, 100, 'api', 'en', NOW(), NOW())"
)
INSERT_LINE = text(
    "INSERT INTO order_lines (order_id, product_id, sku, name, quantity, unit_price_minor, "
    "total_minor) VALUES (:order_id, 1, 'TEA-1', 'Writer line', 1, 100, 100)"
)


class Writer(threading.Thread):
    """One web process writing to the store; see the module's docstring."""

    def __init__(self, control: ControlPlane, slug: str, orders: int):
        super().__init__(daemon=True)
        self.slug = slug
        self.directory = TenantDirectory(control, ttl=5.0)
        self.engines = EngineRegistry(control.keyring, control.settings)
        half = orders // 2
        self.mutable = list(range(1, half))  # order ids to update
        self.deletable = list(range(half, orders + 1))  # order ids to delete
        self.acks: list[tuple] = []  # (when, kind, order number or id, write number)
        self.refused: Counter = Counter()
        self.halt = threading.Event()
        self.random = random.Random(1)
        self.run_id = secrets.token_hex(2)  # order numbers unique across runs
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            for n in itertools.count(1):
                if self.halt.is_set():
                    return
                self.one(n)
        except BaseException as exc:  # noqa: BLE001 -- reported by the bench
            self.failure = exc

    def one(self, n: int) -> None:
        ref = self.directory.by_slug(self.slug)
        if ref is None or ref.status != "active":
            self.refused[ref.status if ref else "gone"] += 1
            time.sleep(0.01)
            return
        kind = ("insert", "update", "delete" if self.deletable else "update")[n % 3]
        try:
            with self.engines.lease(ref) as engine, engine.begin() as conn:
                done, effective = self.write(conn, kind, n)
        except DBAPIError as exc:
            self.refused[getattr(exc.orig, "args", [None])[0]] += 1
            self.directory.invalidate(ref)
            self.engines.invalidate(ref.id)
            time.sleep(0.01)
            return
        if kind == "delete":
            self.deletable.remove(done)
        if effective:  # deleting what an earlier run deleted is no evidence either way
            self.acks.append((time.monotonic(), kind, done, n))

    def write(self, conn, kind: str, n: int):
        if kind == "insert":
            number = f"W-{self.run_id}-{n}"
            order_id = conn.execute(INSERT_ORDER, {"number": number}).lastrowid
            conn.execute(INSERT_LINE, {"order_id": order_id})
            return number, True
        if kind == "update":
            order_id = self.random.choice(self.mutable)
            conn.execute(
                text("UPDATE orders SET customer_name = :name WHERE id = :id"),
                {"name": f"u{n}", "id": order_id},
            )
            return order_id, True
        order_id = self.random.choice(self.deletable)
        deleted = conn.execute(text("DELETE FROM orders WHERE id = :id"), {"id": order_id})
        return order_id, deleted.rowcount == 1

    def durable(self, engine) -> list[bool]:
        """For each acknowledged write: is it in *engine*'s database?"""
        with engine.connect() as conn:
            numbers = set(conn.scalars(text("SELECT number FROM orders WHERE number LIKE 'W-%'")))
            names = dict(conn.execute(text("SELECT id, customer_name FROM orders")).all())

        def kept(kind, key, n) -> bool:
            if kind == "insert":
                return key in numbers
            if kind == "delete":
                return key not in names
            name = names.get(key, "")  # an update: it or a later one is there
            return name.startswith("u") and int(name[1:]) >= n

        return [kept(kind, key, n) for _t, kind, key, n in self.acks]

    def gap(self, durable: list[bool], start: float, end: float) -> float:
        """The longest time without a durable acknowledged insert or delete between
        *start* and *end* (an update may be hidden by a later one: no evidence)."""
        times = [
            t
            for (t, kind, *_), ok in zip(self.acks, durable, strict=True)
            if ok and kind != "update"
        ]
        times = [start, *(t for t in times if start <= t <= end), end]
        return max(b - a for a, b in itertools.pairwise(times))


def timed_move(control: ControlPlane, slug: str, to: str, orders: int, offline: bool) -> dict:
    writer = Writer(control, slug, orders)
    writer.start()
    time.sleep(1.0)
    steps: list[tuple[str, float]] = []

    def step(name: str) -> None:
        if name != "load:rows":
            steps.append((name, time.monotonic()))

    started = time.monotonic()
    tenant = Copier(control, store_schema, fault=step).move(slug, to, offline=offline)
    ended = time.monotonic()
    steps.append(("done", ended))
    time.sleep(1.0)  # writes resume on the new server
    writer.halt.set()
    writer.join(30)
    writer.engines.dispose()
    if writer.failure:
        raise writer.failure
    engine = make_engine(control.runtime_url(tenant), poolclass=NullPool)
    durable = writer.durable(engine)
    engine.dispose()
    lost = durable.count(False)
    with control.session() as session:
        job = session.scalar(
            select(Job).where(Job.tenant_slug == slug, Job.kind == "move").order_by(Job.id.desc())
        )
        freeze = (job.detail or {}).get("freeze_seconds")
    timeline = ", ".join(
        f"{name} {later - at:.2f}s" for (name, at), (_n, later) in itertools.pairwise(steps)
    )
    print(f"steps: {timeline}", flush=True)
    result = {
        "move_seconds": ended - started,
        "gap": writer.gap(durable, started, time.monotonic()),
        "acked": len(writer.acks),
        "acked_during": sum(started <= t <= ended for t, *_ in writer.acks),
        "lost": lost,
        "freeze": freeze,
        "refused": dict(writer.refused),
    }
    print(
        f"{'offline' if offline else 'live'} move to {to}: {result['move_seconds']:.2f}s, "
        f"freeze {freeze if freeze is None else f'{freeze:.3f}s'}, longest write gap "
        f"{result['gap']:.3f}s (durable writes), {result['acked']} writes acknowledged "
        f"({result['acked_during']} during the move), lost {lost}, refused {result['refused']}",
        flush=True,
    )
    return result


def reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 -- any failure means "not there"
        return False
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 orders instead of 100,000")
    parser.add_argument("--orders", type=int, default=None)
    options = parser.parse_args()
    orders = options.orders or (5_000 if options.quick else 100_000)
    target = TARGET_URL
    if not reachable(target):
        # Still a move between two registered servers, but one machine's MariaDB.
        target = str(make_url(MYSQL_URL).set(host="localhost"))
        print(f"{TARGET_URL} unreachable: moving within {MYSQL_URL} under a second name")
    prefix = "b" + "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(3)) + "_"
    root = create_engine(MYSQL_URL)
    control_db = f"{prefix}control"
    with root.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{control_db}` CHARACTER SET utf8mb4"))
    settings = resolve(
        {
            "backoffice.control_url": str(make_url(MYSQL_URL).set(database=control_db)),
            "backoffice.keys": generate_key(),
            "backoffice.db_prefix": prefix,
            "backoffice.environment": "bench",
        },
        here=os.getcwd(),
        environ={},
    )
    control = ControlPlane(settings)
    try:
        return run(control, orders, target)
    finally:
        control.dispose()
        for url in {MYSQL_URL, target}:
            cleanup(url, prefix)
        root.dispose()


def run(control: ControlPlane, orders: int, target: str) -> int:
    init_control(control.engine)
    with control.session() as session:
        control.add_server(session, "one", MYSQL_URL, default=True)
        control.add_server(session, "two", target)
        session.commit()
    tenant = Provisioner(control, store_schema).create(
        StoreRequest(slug="bench-move", name="Bench", server="one")
    )
    ddl = control.backend(tenant.server).ddl_engine(tenant.database_name)
    started = time.perf_counter()
    fill_orders(ddl, orders)
    ddl.dispose()
    print(
        f"store: {orders} orders, {orders * 3} lines, {orders} events "
        f"(filled in {time.perf_counter() - started:.1f}s)",
        flush=True,
    )
    ours = timed_move(control, tenant.slug, "two", orders, offline=False)
    base = timed_move(control, tenant.slug, "one", orders, offline=True)
    ratio = ours["gap"] / base["gap"] if base["gap"] else float("nan")
    print(
        f"move_longest_write_gap_seconds: {ours['gap']:.3f} (baseline {base['gap']:.3f}, "
        f"ratio {ratio:.3f}, target < 2)"
    )
    lost_ratio = f"{ours['lost'] / base['lost']:.2f}" if base["lost"] else "-"
    print(
        f"move_lost_writes: {ours['lost']} (baseline {base['lost']}, ratio {lost_ratio}, target 0)"
    )
    return 0 if ours["lost"] == 0 else 1


def cleanup(url: str, prefix: str) -> None:
    engine = create_engine(url)
    pattern = prefix.replace("_", r"\_") + "%"
    with engine.begin() as conn:
        for (name,) in conn.execute(
            text("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE :p"),
            {"p": pattern},
        ):
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        for user, host in conn.execute(
            text("SELECT User, Host FROM mysql.user WHERE User LIKE :p"), {"p": pattern}
        ):
            conn.execute(text("DROP USER IF EXISTS :u@:h"), {"u": user, "h": host})
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
