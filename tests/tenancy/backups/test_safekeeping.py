"""Every store safe every day: backups of all stores, off-site copies, restore
from them, retention in both places, and the report of stores without a
recent backup.

The object storage is moto's S3 server (``moto_server``), a real HTTP server
on 127.0.0.1 started for this module; the stores are on the real MariaDB,
under a control database of this module's own (``--all`` means all of them).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from backoffice.cli import cli
from backoffice.config import configure
from backoffice.models import Customer
from backoffice.schema import store_schema
from tenancy.backups.offsite import OffsiteStore
from tenancy.backups.safekeeping import safe_backup, stale_stores
from tenancy.backups.service import list_backups
from tenancy.control import ControlPlane
from tenancy.migrate import init_control
from tenancy.models import Backup, Tenant, utcnow
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.settings import resolve
from tests.conftest import RUN_PREFIX, unique_slug
from tests.tenancy.backups.conftest import runtime_engine

MOTO_SERVER = str(Path(sys.executable).parent / "moto_server")
BUCKET = "bo-offsite"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def s3(s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def safe_settings(mysql_admin_url, test_keys, tmp_path_factory, s3_endpoint):
    control_db = f"{RUN_PREFIX}_safe{os.getpid() % 10000}"
    engine = create_engine(mysql_admin_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{control_db}`"))
    engine.dispose()
    here = tmp_path_factory.mktemp("safe-here")
    return resolve(
        {
            "backoffice.control_url": str(make_url(mysql_admin_url).set(database=control_db)),
            "backoffice.keys": test_keys,
            "backoffice.db_prefix": f"{RUN_PREFIX}_",
            "backoffice.environment": "test",
            "backoffice.backup_dir": str(here / "backups"),
            "backoffice.offsite_bucket": BUCKET,
            "backoffice.offsite_prefix": "nightly/",
            "backoffice.offsite_endpoint_url": s3_endpoint,
            "backoffice.offsite_region": "us-east-1",
            "backoffice.offsite_access_key": "test",
            "backoffice.offsite_secret_key": "test",
            "backoffice.offsite_part_size": "5",
        },
        here=here,
        environ={},
    )


@pytest.fixture(scope="module")
def safe(safe_settings, mysql_admin_url, s3):
    control = ControlPlane(safe_settings)
    init_control(control.engine)
    with control.session() as session:
        control.add_server(session, "maria", mysql_admin_url, default=True)
        session.commit()
    yield control
    control.dispose()


def make_store(control, **kw):
    return Provisioner(control, store_schema).create(
        StoreRequest(slug=unique_slug("safe"), name="Safe Shop", **kw)
    )


def run(settings, *args):
    env = {name: None for name in os.environ if name.startswith("BACKOFFICE_")}
    env.update(
        {
            "BACKOFFICE_" + key[len("backoffice.") :].upper(): value
            for key, value in settings.items()
            if key.startswith("backoffice.")
        }
    )
    ini = Path(settings["here"]) / "safe.ini"
    ini.write_text("[app:main]\nbackoffice.environment = test\n")
    return CliRunner(env=env).invoke(cli, ["--config", str(ini), *args])


def objects(s3) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def drop_everything(control) -> None:
    """Module stores left from an earlier test would join ``--all``: suspend nothing,
    just forget them (their databases go at the end of the run)."""
    with control.session() as session:
        session.execute(update(Tenant).values(status="failed"))
        session.commit()


def test_backup_all_goes_on_past_a_failing_store(safe, safe_settings, s3, mysql_admin_url):
    drop_everything(safe)
    stores = [make_store(safe) for _ in range(4)]
    broken = stores[1]
    admin = create_engine(mysql_admin_url)
    with admin.begin() as conn:  # its database vanishes under it
        conn.execute(text(f"DROP DATABASE `{broken.database_name}`"))
    admin.dispose()

    result = run(safe_settings, "tenants", "backup", "--all", "--concurrency", "3")

    assert result.exit_code == 1, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if " " in line}
    assert "FAILED" in lines[broken.slug]
    for store in stores:
        if store is not broken:
            assert f"{store.slug}" in lines and " ok " in lines[store.slug], result.output
    assert "3 backed up, 1 failed" in result.output
    # Each good one was verified and copied off-site under its slug and id.
    with safe.session() as session:
        done = {b.tenant_slug: b for b in list_backups(session) if b.state == "done"}
    assert set(done) == {s.slug for s in stores if s is not broken}
    assert {b.offsite_key for b in done.values()} <= objects(s3)
    for slug, record in done.items():
        assert record.offsite_key == f"nightly/{slug}/{record.id}.bobk"

    as_json = run(safe_settings, "tenants", "backup", "--all", "--json")
    rows = json.loads(as_json.output)
    assert as_json.exit_code == 1
    assert [r["ok"] for r in rows] == [store is not broken for store in stores]


def test_restore_from_the_offsite_copy_with_the_local_file_gone(safe, safe_settings, s3):
    drop_everything(safe)
    store = make_store(safe)
    engine = runtime_engine(safe, store)
    with engine.begin() as conn:
        conn.execute(insert(Customer).values(email="a@x.test", name="A", phone=""))
    record = safe_backup(safe, store.slug)
    assert record.offsite_key in objects(s3)
    with engine.begin() as conn:  # a mistake to undo
        conn.execute(text("DELETE FROM customers"))
    engine.dispose()
    os.unlink(record.path)

    result = run(safe_settings, "tenants", "restore", store.slug, "--backup", record.id, "--yes")

    assert result.exit_code == 0, result.output
    assert "downloaded from off-site storage" in result.output
    assert Path(record.path).exists()
    with safe.session() as session:
        tenant = safe.tenant(session, store.slug)
    engine = runtime_engine(safe, tenant)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT email FROM customers")) == "a@x.test"
    engine.dispose()

    # --from-offsite fetches even over a local file (here: a corrupted one).
    Path(record.path).write_bytes(b"garbage")
    again = run(
        safe_settings,
        "tenants",
        "restore",
        store.slug,
        "--backup",
        record.id,
        "--from-offsite",
        "--yes",
    )
    assert again.exit_code == 0, again.output


def test_a_large_file_goes_up_in_parts_and_comes_back_intact(safe_settings, tmp_path, s3):
    offsite = OffsiteStore.from_settings(safe_settings)
    big = tmp_path / "big.bobk"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    offsite.upload(big, "nightly/big/1.bobk", sha)
    head = s3.head_object(Bucket=BUCKET, Key="nightly/big/1.bobk")
    assert head["ETag"].strip('"').endswith("-3")  # three parts of 5 MiB at most
    assert head["Metadata"]["sha256"] == sha
    offsite.download("nightly/big/1.bobk", tmp_path / "back.bobk", sha)
    assert (tmp_path / "back.bobk").read_bytes() == big.read_bytes()
    offsite.delete("nightly/big/1.bobk")
    assert not offsite.exists("nightly/big/1.bobk")


def test_prune_removes_from_both_places(safe, safe_settings, s3):
    drop_everything(safe)
    store = make_store(safe)
    records = [safe_backup(safe, store.slug) for _ in range(3)]
    with safe.session() as session:  # the two older ones: from earlier days
        for days, record in zip((3, 2), records, strict=False):
            session.execute(
                update(Backup)
                .where(Backup.id == record.id)
                .values(created_at=utcnow() - timedelta(days=days))
            )
        session.commit()

    result = run(safe_settings, "backups", "prune", "--daily", "1", "--weekly", "0", "--json")

    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    # (Earlier tests' stores share this control DB: theirs are pruned too.)
    assert {records[0].id, records[1].id} <= set(outcome["offsite_deleted"])
    assert records[2].id in outcome["kept"]
    left = objects(s3)
    assert records[2].offsite_key in left
    assert not {records[0].offsite_key, records[1].offsite_key} & left
    assert [Path(r.path).exists() for r in records] == [False, False, True]


def test_the_stale_report(safe, safe_settings):
    drop_everything(safe)
    fresh, late, never = (make_store(safe) for _ in range(3))
    safe_backup(safe, fresh.slug)
    old = safe_backup(safe, late.slug)
    with safe.session() as session:
        session.execute(
            update(Backup)
            .where(Backup.id == old.id)
            .values(created_at=utcnow() - timedelta(hours=30))
        )
        session.execute(
            update(Tenant)
            .where(Tenant.id.in_([late.id, never.id]))
            .values(created_at=utcnow() - timedelta(days=3))
        )
        session.commit()

    result = run(safe_settings, "backups", "stale", "--json")

    assert result.exit_code == 1, result.output
    rows = {r["slug"]: r for r in json.loads(result.output)}
    assert set(rows) == {late.slug, never.slug}
    assert rows[late.slug]["last_backup_id"] == old.id
    assert 29 < rows[late.slug]["hours"] < 31
    assert rows[never.slug]["last_backup_id"] is None
    assert [s.slug for s in stale_stores(safe, 48)] == [never.slug]
    ok = run(safe_settings, "backups", "stale", "--hours", "100")
    assert ok.exit_code == 0 and "every store has a good backup" in ok.output


def test_the_nightly_run_backs_up_every_active_store_one_task_each(safe, safe_settings, s3):
    drop_everything(safe)
    stores = [make_store(safe) for _ in range(2)]
    config = configure(safe_settings, control=safe)
    celery = config.registry.celery
    assert celery.conf.beat_schedule["backups-all"]["task"] == "backups.all"

    assert celery.tasks["backups.all"].delay().get() == {"queued": 2}  # eager: run at once

    with safe.session() as session:
        done = [b for b in list_backups(session) if b.tenant_slug in {s.slug for s in stores}]
        assert sorted(b.tenant_slug for b in done) == sorted(s.slug for s in stores)
        assert all(b.offsite_key in objects(s3) for b in done)
        assert session.scalar(select(Tenant.status).where(Tenant.id == stores[0].id)) == "active"
    config.registry.engines.dispose()
