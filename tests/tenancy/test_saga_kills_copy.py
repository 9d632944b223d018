"""``tenants restore`` (in place) and ``tenants move`` killed at every step boundary
(SIGKILL of the real CLI process), or with their DDL connections killed by the server
mid-load; then ``tenants repair``. Before the switch the store is back on its old
database with its data; after it, the old database is gone. No orphan either way.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, text

from backoffice.schema import store_schema
from tenancy.backups.moves import LIVE_STEPS
from tenancy.backups.restore import STEPS
from tenancy.backups.service import backup_store
from tenancy.models import Backup, BackupState, TenantStatus
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug
from tests.tenancy.saga_kit import (
    assert_live_run_is_not_taken_over,
    assert_settled,
    repair_twice,
    runtime_count,
)

pytestmark = pytest.mark.mysql
_markers = itertools.count(1)


def new_store(kit) -> str:
    tenant = Provisioner(kit.control, store_schema).create(
        StoreRequest(slug=unique_slug("cp"), name="Copied")
    )
    add_product(kit, tenant.slug, "TEA-1")
    return tenant.slug


def add_product(kit, slug: str, sku: str) -> None:
    tenant = kit.row(slug)
    engine = kit.control.backend(tenant.server).ddl_engine(tenant.database_name)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, description, price_minor, stock, is_active, "
                "created_at, updated_at) VALUES (:s, 'Tea', '', 450, 7, 1, NOW(), NOW())"
            ),
            {"s": sku},
        )
    engine.dispose()


# -- restore in place ------------------------------------------------------------
RESTORE_STEPS = STEPS[1:]  # paused before each step after the claim


@pytest.fixture(scope="module")
def backed_up(kit):
    slug = new_store(kit)
    return slug, backup_store(kit.control, slug).id


def restore_killed_at(kit, slug, backup_id, step) -> tuple[str, str]:
    """Write a product after the backup, then restore, paused at *step* and killed."""
    marker = f"AFTER-{next(_markers)}"
    add_product(kit, slug, marker)
    before = kit.row(slug).database_name
    run = kit.start(step, "tenants", "restore", slug, "--backup", backup_id, "--yes")
    run.wait_paused()
    assert kit.row(slug).status in {TenantStatus.RESTORING, TenantStatus.ACTIVE}
    assert_live_run_is_not_taken_over(kit, slug)
    run.kill()
    kit.wait_stuck(slug)
    return marker, before


@pytest.mark.parametrize("step", RESTORE_STEPS)
def test_restore_killed_at_each_step_is_repaired(kit, backed_up, step):
    slug, backup_id = backed_up
    marker, before = restore_killed_at(kit, slug, backup_id, step)
    line = repair_twice(kit, slug)
    row = assert_settled(kit, slug)
    switched = step == "cleanup"  # paused after the switch, before the old database went
    assert (row.database_name != before) is switched
    products = runtime_count(kit, row, f"products WHERE sku = '{marker}'")
    assert products == (0 if switched else 1)
    if switched:
        assert line == f"store {slug} is active: the clean-up of its restore was finished"
    else:
        assert line.startswith(f"store {slug} is active again on its old database")


def test_restore_with_its_ddl_connections_killed_mid_load_is_undone(kit, backed_up):
    slug, backup_id = backed_up
    add_product(kit, slug, f"AFTER-{next(_markers)}")
    before = kit.row(slug).database_name
    run = kit.start("load:rows", "tenants", "restore", slug, "--backup", backup_id, "--yes")
    run.wait_paused()
    assert kit.kill_ddl_connections() >= 1
    code, _out, err = run.go()
    assert code == 1 and "restore of store" in err and "nothing was switched" in err, err
    assert assert_settled(kit, slug).database_name == before


# -- move (between two registered spellings of one server) --------------------------
MOVE_STEPS = LIVE_STEPS[1:]


@pytest.fixture(scope="module")
def mover(kit):
    return new_store(kit)


@pytest.mark.parametrize("step", MOVE_STEPS)
def test_move_killed_at_each_step_is_repaired(kit, mover, step):
    start = kit.row(mover)
    to = "maria2" if start.server.name == "maria" else "maria"
    run = kit.start(step, "tenants", "move", mover, "--to-server", to)
    run.wait_paused()
    assert_live_run_is_not_taken_over(kit, mover)
    run.kill()
    kit.wait_stuck(mover)
    repair_twice(kit, mover)
    row = assert_settled(kit, mover)
    switched = step == "cleanup"
    assert row.server.name == (to if switched else start.server.name)
    assert (row.database_name != start.database_name) is switched
    assert runtime_count(kit, row, "products") == 1


def test_move_with_its_ddl_connections_killed_mid_load_stays(kit, mover):
    start = kit.row(mover)
    to = "maria2" if start.server.name == "maria" else "maria"
    run = kit.start("load:rows", "tenants", "move", mover, "--to-server", to)
    run.wait_paused()
    assert kit.kill_ddl_connections() >= 1
    code, _out, err = run.go()
    assert code == 1 and "move of store" in err, err
    row = assert_settled(kit, mover)
    assert (row.server.name, row.database_name) == (start.server.name, start.database_name)


def test_a_safety_backup_cut_short_is_recorded_failed(kit, backed_up):
    """Killed while writing the safety backup: repair records it failed, no part file."""
    slug, backup_id = backed_up
    run = kit.start("safety:rows", "tenants", "restore", slug, "--backup", backup_id, "--yes")
    run.wait_paused()
    run.kill()
    kit.wait_stuck(slug)
    repair_twice(kit, slug)
    assert_settled(kit, slug)
    with kit.control.session() as session:
        last = session.scalars(
            select(Backup).where(Backup.tenant_slug == slug).order_by(Backup.created_at.desc())
        ).first()
    assert last.state == BackupState.FAILED and "interrupted" in last.error
