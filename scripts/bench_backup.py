"""Benchmark: backup and restore of one store next to mariadb-dump | gzip and mariadb < dump.

    python scripts/bench_backup.py            # 100,000 orders / 300,000 lines
    python scripts/bench_backup.py --quick    # 5,000 orders, under a minute

Both sides work on the same store database in the same run. Ours: a
consistent snapshot, canonical rows, zlib, AES-256-GCM chunks, a file; the
restore creates a fresh database and user, the schema, loads, re-reads and
checks every table's count and SHA-256, switches and drops the old database.
The baseline: ``mariadb-dump --single-transaction | gzip`` and
``gunzip -c | mariadb`` into an empty database. The backups run first, one of
each side in turn for ``--rounds`` rounds (medians compared, every round
printed), then the baseline's restore, then ours. Ends with one line per
figure: ``<name>: <value> (baseline <value>, ratio <r>, target <t>)``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import fill_orders
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backoffice.schema import store_schema
from tenancy.backups.restore import Copier
from tenancy.backups.service import backup_store
from tenancy.control import ControlPlane
from tenancy.keyring import generate_key
from tenancy.migrate import init_control
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.settings import resolve

MYSQL_URL = os.environ.get("BACKOFFICE_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def shell(command: str) -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)
    return time.perf_counter() - started


def client_args(url: str) -> str:
    parsed = make_url(url)
    password = f" -p{parsed.password}" if parsed.password else ""
    return f"-h{parsed.host or '127.0.0.1'} -P{parsed.port or 3306} -u{parsed.username}{password}"


def baseline_backup(database: str, dump: Path) -> float:
    args = client_args(MYSQL_URL)
    return shell(f"mariadb-dump {args} --single-transaction {database} | gzip > {dump}")


def baseline_restore(root, database: str, dump: Path) -> float:
    target = database[:-4] + "base"
    with root.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{target}` CHARACTER SET utf8mb4"))
    try:
        return shell(f"gunzip -c {dump} | mariadb {client_args(MYSQL_URL)} {target}")
    finally:
        with root.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{target}`"))


def line(name: str, value: float, base: float, target: str, unit: str = "s") -> str:
    return (
        f"{name}: {value:.2f}{unit} (baseline {base:.2f}{unit}, ratio {value / base:.2f}, "
        f"target {target})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 orders instead of 100,000")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="backups of each side, in turn (the medians are compared)",
    )
    options = parser.parse_args()
    orders = options.orders or (5_000 if options.quick else 100_000)
    prefix = "b" + "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(3)) + "_"
    root = create_engine(MYSQL_URL)
    control_db = f"{prefix}control"
    with root.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{control_db}` CHARACTER SET utf8mb4"))
    workdir = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    settings = resolve(
        {
            "backoffice.control_url": str(make_url(MYSQL_URL).set(database=control_db)),
            "backoffice.keys": generate_key(),
            "backoffice.db_prefix": prefix,
            "backoffice.backup_dir": str(workdir / "backups"),
            "backoffice.environment": "bench",
        },
        here=workdir,
        environ={},
    )
    control = ControlPlane(settings)
    try:
        return run(control, root, workdir, orders, options.rounds)
    finally:
        control.dispose()
        cleanup(root, prefix, workdir)


def run(control: ControlPlane, root, workdir: Path, orders: int, rounds: int) -> int:
    init_control(control.engine)
    with control.session() as session:
        control.add_server(session, "maria", MYSQL_URL, default=True)
        session.commit()
    tenant = Provisioner(control, store_schema).create(
        StoreRequest(slug="bench-shop", name="Bench")
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
    # Both sides' backups in turn, before any restore: a restore leaves MariaDB
    # flushing for seconds, which slowed whichever backup came after it.
    dump, bases, ours = workdir / "dump.sql.gz", [], []
    rss_before = peak_rss_mib()
    for turn in range(1, rounds + 1):
        bases.append(baseline_backup(tenant.database_name, dump))
        started = time.perf_counter()
        record = backup_store(control, tenant.slug)
        ours.append(time.perf_counter() - started)
        print(
            f"round {turn}: mariadb-dump | gzip {bases[-1]:.2f}s ({dump.stat().st_size / 1e6:.1f}"
            f" MB); backup {record.id} {ours[-1]:.2f}s ({record.size / 1e6:.1f} MB)",
            flush=True,
        )
    base_backup, ours_backup = statistics.median(bases), statistics.median(ours)
    base_restore = baseline_restore(root, tenant.database_name, dump)
    print(f"gunzip | mariadb: {base_restore:.2f}s", flush=True)
    started = time.perf_counter()
    Copier(control, store_schema).restore(tenant.slug, record.id)
    ours_restore = time.perf_counter() - started
    print(f"restore (load + verify + switch): {ours_restore:.2f}s", flush=True)
    rss_after = peak_rss_mib()

    print(line(f"backup_seconds (median of {rounds})", ours_backup, base_backup, "<= 1.5x"))
    print(line("restore_seconds", ours_restore, base_restore, "<= 2x"))
    print(
        f"peak_rss_mib: {rss_after:.0f} (baseline {rss_before:.0f} before backup and "
        f"restore, ratio {rss_after / rss_before:.2f}, target no growth with store size)"
    )
    return 0


def cleanup(root, prefix: str, workdir: Path) -> None:
    pattern = prefix.replace("_", r"\_") + "%"
    with root.begin() as conn:
        for (name,) in conn.execute(
            text("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE :p"),
            {"p": pattern},
        ):
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        for user, host in conn.execute(
            text("SELECT User, Host FROM mysql.user WHERE User LIKE :p"), {"p": pattern}
        ):
            conn.execute(text("DROP USER IF EXISTS :u@:h"), {"u": user, "h": host})
    root.dispose()
    with contextlib.suppress(OSError):
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    sys.exit(main())
