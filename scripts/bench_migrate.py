"""Benchmark: a one-column tenant migration fanned out over N stores on MariaDB.

N stores are provisioned at head. A copy of ``migrations/tenant`` in a temp
directory gets three one-column revisions (a nullable column on ``customers``
each); the real tree is never touched. The product applies its revision with
``tenancy.migrate.migrate_stores`` (the fan-out the CLI uses, control-DB
bookkeeping included); the baseline applies the revision before it and the
one after it with raw PyMySQL (ALTER TABLE + UPDATE alembic_version over a
connection per store) at the same concurrency, bracketing the product's pass
so machine noise hits both; the baseline figure is the mean of the two.

    python scripts/bench_migrate.py            # 1000 stores
    python scripts/bench_migrate.py --quick    # 50 stores, under a minute
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchlib import (
    DEFAULT_MYSQL_URL,
    Timer,
    admin_connection,
    bench_control,
    headline,
    ms,
    run_prefix,
)
from sqlalchemy import func, select

from backoffice.schema import StoreSchema, store_schema
from migrations import TENANT_DIR
from tenancy.control import ControlPlane
from tenancy.migrate import migrate_stores, select_stores
from tenancy.models import Tenant
from tenancy.provisioning import Provisioner, StoreRequest

TARGET_TOTAL_PER_1000 = 20.0  # seconds for 1000 stores on 2 cores
TARGET_PER_STORE = 0.016  # the per-store target, stricter than 20 s / 1000
# (revision, column, who applies it); each revises the one before it.
REVISIONS = (
    ("b002", "bench_before", "raw"),
    ("b003", "bench_note", "product"),
    ("b004", "bench_after", "raw"),
)

REVISION_TEMPLATE = '''"""bench: add customers.{column}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("{column}", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "{column}")
'''


def scripts_with_bench_revisions(directory: Path) -> Path:
    """A copy of the tenant scripts plus the bench revisions; returns its location."""
    location = directory / "tenant"
    shutil.copytree(TENANT_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    down = store_schema.head()
    for revision, column, _who in REVISIONS:
        (location / "versions" / f"{revision}_bench_{column}.py").write_text(
            REVISION_TEMPLATE.format(revision=revision, down=down, column=column)
        )
        down = revision
    return location


def provision(control: ControlPlane, prefix: str, n: int, concurrency: int) -> None:
    provisioner = Provisioner(control, store_schema)

    def one(i: int) -> None:
        provisioner.create(StoreRequest(slug=f"{prefix}-m{i}", name=f"Bench {i}"))

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(n)))


def raw_pass(
    url: str, databases: list[str], revision: str, down: str, column: str, concurrency: int
) -> float:
    """The floor: what the migration sends, over plain PyMySQL; total seconds."""

    def one(database: str) -> None:
        with contextlib.closing(admin_connection(url, database)) as conn:
            cur = conn.cursor()
            cur.execute(f"ALTER TABLE customers ADD COLUMN {column} VARCHAR(64) NULL")
            cur.execute(
                "UPDATE alembic_version SET version_num = %s WHERE version_num = %s",
                (revision, down),
            )
            if cur.rowcount != 1:
                raise RuntimeError(f"{database} was not at {down}")

    timer = Timer()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, databases))
    return timer.seconds


def product_pass(control: ControlPlane, location: Path, concurrency: int, expected: int) -> float:
    timer = Timer()
    tenants, _missing = select_stores(control, None)
    results = migrate_stores(
        control, StoreSchema(location), tenants, concurrency=concurrency, target="b003"
    )
    seconds = timer.seconds
    failed = [r for r in results if not r.ok or r.revision != "b003"]
    if len(results) != expected or failed:
        raise SystemExit(
            f"migration failed: {len(results)} results, first failures "
            f"{[(r.slug, r.revision, r.error) for r in failed[:3]]}"
        )
    with control.session() as session:
        recorded = session.scalar(
            select(func.count()).select_from(Tenant).where(Tenant.schema_revision == "b003")
        )
    if recorded != expected:
        raise SystemExit(f"the control DB records b003 for {recorded} of {expected} stores")
    return seconds


def measure(url: str, n: int, concurrency: int) -> tuple[float, float, float]:
    prefix = run_prefix()
    with tempfile.TemporaryDirectory() as tmp, bench_control(url, prefix) as control:
        location = scripts_with_bench_revisions(Path(tmp))
        timer = Timer()
        provision(control, prefix, n, concurrency)
        print(f"provisioned {n} stores in {timer.seconds:.1f} s (prefix {prefix}_)", flush=True)
        with control.session() as session:
            databases = list(session.scalars(select(Tenant.database_name)))
        down = store_schema.head()
        raw = []
        for revision, column, who in REVISIONS:
            if who == "raw":
                raw.append(raw_pass(url, databases, revision, down, column, concurrency))
                print(f"raw {revision}: {raw[-1]:.2f} s", flush=True)
            else:
                product = product_pass(control, location, concurrency, n)
                print(f"migrate_stores {revision}: {product:.2f} s", flush=True)
            down = revision
    return product, raw[0], raw[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL_URL)
    parser.add_argument("--quick", action="store_true", help="50 stores (under a minute)")
    parser.add_argument("-n", type=int, help="number of stores (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    n = args.n or (50 if args.quick else 1000)
    product, before, after = measure(args.mysql_url, n, args.concurrency)
    baseline = (before + after) / 2
    target = TARGET_TOTAL_PER_1000 * n / 1000
    print(
        f"N={n}, concurrency {args.concurrency}: migrate_stores {product:.2f} s "
        f"({ms(product / n)} per store); raw PyMySQL {before:.2f} s before, "
        f"{after:.2f} s after (mean {ms(baseline / n)} per store)"
    )
    print()
    print(
        headline(
            f"tenant migration total, N={n}",
            f"{product:.2f} s",
            f"{baseline:.2f} s",
            product / baseline,
            f"<= {target:.1f} s",
        )
    )
    print(
        headline(
            f"tenant migration per store, N={n}",
            ms(product / n),
            ms(baseline / n),
            product / baseline,
            f"<= {ms(TARGET_PER_STORE)}",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
