"""Benchmark: provisioning N stores on MariaDB against the raw-SQL floor.

The product path is ``tenancy.provisioning.Provisioner`` with the real store
schema and a control DB on the same MariaDB. The floor, measured in the same
process and interleaved with it block by block (so machine noise hits both),
is what the server needs at the least: CREATE DATABASE, CREATE USER, GRANT and
the same tables and indexes (the DDL SQLAlchemy compiles), sent with PyMySQL
over one open connection.

    python scripts/bench_provisioning.py            # N=100 and N=1000
    python scripts/bench_provisioning.py --quick    # N=30, under a minute
"""

from __future__ import annotations

import argparse
import secrets
import sys

from benchlib import (
    DEFAULT_MYSQL_URL,
    Timer,
    admin_connection,
    bench_control,
    growth,
    headline,
    median,
    ms,
    p95,
    run_prefix,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from backoffice.models import metadata
from backoffice.schema import store_schema
from tenancy.control import ControlPlane
from tenancy.names import grant_pattern
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.servers import RUNTIME_PRIVILEGES

TARGET_RATIO = 2.5
TARGET_GROWTH = 1.2


def store_ddl(dialect: Dialect) -> list[str]:
    """The statements ``metadata.create_all`` sends for a fresh store."""
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect)).strip() for index in table.indexes
        )
    return statements


class Floor:
    """The raw-SQL floor: one admin connection, nothing but the server's work."""

    def __init__(self, url: str, prefix: str, dialect: Dialect):
        self.conn = admin_connection(url)
        self.prefix = prefix
        self.ddl = store_ddl(dialect)

    def create(self, i: int) -> None:
        name = f"{self.prefix}_f{i}"
        cur = self.conn.cursor()
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, secrets.token_urlsafe(32)))
        cur.execute(f"GRANT {RUNTIME_PRIVILEGES} ON `{grant_pattern(name)}`.* TO %s@'%%'", (name,))
        cur.execute(f"USE `{name}`")
        for statement in self.ddl:
            cur.execute(statement)

    def close(self) -> None:
        self.conn.close()


def measure(
    control: ControlPlane, url: str, prefix: str, n: int, block: int, owner: bool
) -> tuple[list[float], list[float]]:
    """Per-store seconds (product, floor), alternating blocks of *block* stores."""
    provisioner = Provisioner(control, store_schema)
    floor = Floor(url, prefix, control.engine.dialect)
    product_times: list[float] = []
    floor_times: list[float] = []

    def product_block(start: int, stop: int) -> None:
        for i in range(start, stop):
            request = StoreRequest(slug=f"{prefix}-p{i}", name=f"Bench {i}")
            if owner:
                request.owner_email, request.owner_password = "o@example.com", "owner-pass-1"
            timer = Timer()
            provisioner.create(request)
            product_times.append(timer.seconds)

    def floor_block(start: int, stop: int) -> None:
        for i in range(start, stop):
            timer = Timer()
            floor.create(i)
            floor_times.append(timer.seconds)

    try:
        for round_, start in enumerate(range(0, n, block)):
            stop = min(n, start + block)
            # Swap the order every round so neither side always runs first.
            first, second = (
                (product_block, floor_block) if round_ % 2 else (floor_block, product_block)
            )
            first(start, stop)
            second(start, stop)
            if stop % max(block, n // 10) == 0 or stop == n:
                print(
                    f"  {stop}/{n} stores: product {ms(median(product_times))}, "
                    f"floor {ms(median(floor_times))} (running medians)",
                    flush=True,
                )
    finally:
        floor.close()
    return product_times, floor_times


def report(n: int, product: list[float], floor: list[float]) -> list[str]:
    ratio = median(product) / median(floor)
    grow, floor_grow = growth(product), growth(floor)
    print(
        f"N={n}: product median {ms(median(product))}, p95 {ms(p95(product))}; "
        f"floor median {ms(median(floor))}, p95 {ms(p95(floor))}; ratio {ratio:.2f}"
    )
    print(
        f"N={n}: growth (median of last 10% / first 10%): product {grow:.2f}x, "
        f"floor {floor_grow:.2f}x"
    )
    return [
        headline(
            f"provisioning median per store, N={n}",
            ms(median(product)),
            ms(median(floor)),
            ratio,
            f"<= {TARGET_RATIO}x",
        ),
        headline(
            f"provisioning p95 per store, N={n}",
            ms(p95(product)),
            ms(p95(floor)),
            p95(product) / p95(floor),
            "none",
        ),
        headline(
            f"provisioning growth, N={n}",
            f"{grow:.2f}x",
            f"{floor_grow:.2f}x",
            grow / floor_grow,
            f"<= {TARGET_GROWTH}x",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL_URL)
    parser.add_argument("--quick", action="store_true", help="N=30 only (under a minute)")
    parser.add_argument("-n", type=int, action="append", help="store counts (repeatable)")
    parser.add_argument("--block", type=int, default=10, help="stores per interleaved block")
    parser.add_argument(
        "--owner",
        action="store_true",
        help="also create an owner account (argon2 hashing dominates)",
    )
    args = parser.parse_args(argv)
    sizes = args.n or ([30] if args.quick else [100, 1000])
    lines: list[str] = []
    for n in sizes:
        prefix = run_prefix()
        print(f"provisioning {n} stores (+{n} floor), prefix {prefix}_", flush=True)
        with bench_control(args.mysql_url, prefix) as control:
            product, floor = measure(control, args.mysql_url, prefix, n, args.block, args.owner)
        lines += report(n, product, floor)
    print()
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
