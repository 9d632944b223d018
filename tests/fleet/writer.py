"""A web process writing to one store while it is moved, recording what was acknowledged.

It finds the store the way the app does (``TenantDirectory`` with the app's
cache TTL, ``EngineRegistry``), treats a busy store and a database error the
way the app's 503 does (drop the cached entry and engine, retry shortly), and
records every write the database acknowledged, so a test can check that each
one is in the store's new database.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tenancy.directory import TenantDirectory
from tenancy.registry import EngineRegistry

INSERT_ORDER = text(
    "INSERT INTO orders (number, status, payment_status, customer_name, customer_email, "
    "customer_phone, shipping_address, currency, subtotal_minor, shipping_minor, total_minor, "
    "source, locale, created_at, updated_at) VALUES (:number, 'new', 'unpaid', 'Writer', '', '', "
    "'', 'EUR', 100, 0, 100, 'api', 'en', NOW(), NOW())"
)
INSERT_LINE = text(
    "INSERT INTO order_lines (order_id, sku, name, quantity, unit_price_minor, total_minor) "
    "VALUES (:order_id, 'W', 'Writer line', 1, 100, 100)"
)


class Writer(threading.Thread):
    """Inserts an order with a line, updates one of *mutable* or deletes one of
    *deletable* (existing order ids), in turns, until ``stop()``."""

    def __init__(self, control, slug: str, *, mutable=(), deletable=(), ttl: float = 5.0):
        super().__init__(daemon=True)
        self.slug = slug
        self.directory = TenantDirectory(control, ttl=ttl)
        self.engines = EngineRegistry(control.keyring, control.settings)
        self.mutable = list(mutable)
        self.deletable = list(deletable)
        self.inserted: list[str] = []  # acknowledged order numbers
        self.updated: dict[int, int] = {}  # order id -> last acknowledged update number
        self.deleted: list[int] = []
        self.acks: list[float] = []  # when each write was acknowledged
        self.refused: Counter = Counter()
        self.failure: BaseException | None = None
        self._halt = threading.Event()
        self._random = random.Random(7)

    def stop(self) -> None:
        self._halt.set()
        self.join(30)
        self.engines.dispose()

    def longest_gap(self, start: float | None = None, end: float | None = None) -> float:
        times = [
            t for t in self.acks if (start is None or t >= start) and (end is None or t <= end)
        ]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def run(self) -> None:
        try:
            n = 0
            while not self._halt.is_set():
                n += 1
                self._one(n)
        except BaseException as exc:  # noqa: BLE001 -- reported by the test
            self.failure = exc

    def _one(self, n: int) -> None:
        ref = self.directory.by_slug(self.slug)
        if ref is None or ref.status != "active":
            self.refused[ref.status if ref else "gone"] += 1
            time.sleep(0.01)  # a 503 with Retry-After
            return
        kind = ("insert", "update", "delete")[n % 3]
        try:
            with self.engines.lease(ref) as engine, engine.begin() as conn:
                done = self._write(conn, kind, n)
        except DBAPIError as exc:
            code = getattr(exc.orig, "args", [None])[0]
            self.refused[code] += 1
            # What the app's error view does: re-read the store, new engine.
            self.directory.invalidate(ref)
            self.engines.invalidate(ref.id)
            time.sleep(0.01)
            return
        self.acks.append(time.monotonic())
        if kind == "insert":
            self.inserted.append(done)
        elif kind == "update" and done is not None:
            self.updated[done] = n
        elif kind == "delete" and done is not None:
            self.deleted.append(done)
            self.deletable.remove(done)

    def _write(self, conn, kind: str, n: int):
        if kind == "insert" or (kind == "delete" and not self.deletable):
            number = f"W-{n}"
            order_id = conn.execute(INSERT_ORDER, {"number": number}).lastrowid
            conn.execute(INSERT_LINE, {"order_id": order_id})
            return number if kind == "insert" else None
        if kind == "update":
            if not self.mutable:
                return None
            order_id = self._random.choice(self.mutable)
            conn.execute(
                text("UPDATE orders SET customer_name = :name WHERE id = :id"),
                {"name": f"u{n}", "id": order_id},
            )
            return order_id
        order_id = self._random.choice(self.deletable)
        conn.execute(text("DELETE FROM orders WHERE id = :id"), {"id": order_id})
        return order_id

    def missing(self, engine) -> list[str]:
        """Acknowledged writes the database does not show: inserted orders
        absent, deleted ones (or their lines) present, updates older than the
        last acknowledged one. Empty means nothing was lost."""
        with engine.connect() as conn:
            numbers = set(conn.scalars(text("SELECT number FROM orders WHERE number LIKE 'W-%'")))
            lost = [f"insert {n}" for n in self.inserted if n not in numbers]
            names = dict(conn.execute(text("SELECT id, customer_name FROM orders")).all())
            lines = set(conn.scalars(text("SELECT DISTINCT order_id FROM order_lines")))
        for order_id in self.deleted:
            if order_id in names or order_id in lines:
                lost.append(f"delete {order_id}")
        for order_id, n in self.updated.items():
            name = names.get(order_id, "")
            if order_id not in self.deleted and not (name.startswith("u") and int(name[1:]) >= n):
                lost.append(f"update {order_id}: u{n} acknowledged, {name!r} found")
        return lost
