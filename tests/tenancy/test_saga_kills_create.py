"""``tenants create`` and ``tenants clone`` killed at every step boundary (SIGKILL of
the real CLI process), or with their DDL connections killed by the server; then
``tenants repair`` or ``create --resume``. Afterwards: no orphan database, user or
row, and the store works (or, for a clone that died, is gone without a trace).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from backoffice.schema import store_schema
from tenancy.models import TenantStatus
from tenancy.provisioning import STEPS, Provisioner, StoreRequest
from tests.conftest import unique_slug
from tests.tenancy.saga_kit import (
    assert_live_run_is_not_taken_over,
    assert_settled,
    repair_twice,
    runtime_count,
)

pytestmark = pytest.mark.mysql
OWNER = ("--owner-email", "o@example.com", "--owner-password", "owner-pass-1")


def create_args(slug: str) -> tuple[str, ...]:
    return ("tenants", "create", slug, "--name", "Killed", *OWNER)


# Paused before each step: after the control row, the database, the user, the grant,
# the schema and the owner steps.
@pytest.mark.parametrize("step", STEPS[1:])
def test_create_killed_at_each_step_is_repaired(kit, step):
    slug = unique_slug("kc")
    run = kit.start(step, *create_args(slug))
    run.wait_paused()
    assert kit.row(slug).status == TenantStatus.PROVISIONING
    assert_live_run_is_not_taken_over(kit, slug)
    run.kill()
    kit.wait_stuck(slug)

    listed = json.loads(kit.cli("tenants", "list", "--stuck", "--json").stdout)
    [entry] = [row for row in listed if row["slug"] == slug]
    assert (entry["status"], entry["operation"]) == ("provisioning", "provision")
    assert entry["step"] == STEPS[STEPS.index(step) - 1]
    table = kit.cli("tenants", "list", "--stuck").stdout.splitlines()
    assert table[0].split() == ["SLUG", "STATUS", "OPERATION", "STEP", "SINCE", "ERROR"]

    assert repair_twice(kit, slug) == f"store {slug} is active: its create was resumed"
    row = assert_settled(kit, slug)
    assert runtime_count(kit, row, "staff_users") == 1  # the owner, from the job


@pytest.mark.parametrize("step", ["user", "schema"])
def test_create_resume_takes_over_a_dead_run(kit, step):
    """Finding 1: --resume used to refuse ("already exists (status provisioning)")."""
    slug = unique_slug("kr")
    run = kit.start(step, *create_args(slug))
    run.wait_paused()
    live = kit.cli(*create_args(slug), "--resume")
    assert live.exit_code == 1 and "held by" in live.stderr  # never a live run
    run.kill()
    kit.wait_stuck(slug)
    plain = kit.cli(*create_args(slug))
    assert plain.exit_code == 1 and "retry with --resume" in plain.stderr
    resumed = kit.cli(*create_args(slug), "--resume")
    assert resumed.exit_code == 0, resumed.output
    row = assert_settled(kit, slug)
    assert runtime_count(kit, row, "staff_users") == 1


def test_resume_recreates_a_user_dropped_by_a_cut_short_compensation(kit, monkeypatch):
    """Finding 1: the compensation dropped the user, then lost its connection before
    dropping the database; the next resume went on from the owner step and got 1045."""
    slug = unique_slug("ku")
    request = StoreRequest(slug, "Cut short", owner_email="o@example.com")
    request.owner_password = "owner-pass-1"
    with kit.control.session() as session:
        backend = kit.control.backend(kit.control.server(session))

    def lost(name):
        raise ConnectionError("Lost connection to MySQL server during query")

    def fail_at_owner(step):
        if step == "owner":
            raise RuntimeError("injected")

    monkeypatch.setattr(backend, "drop_database", lost)
    with pytest.raises(RuntimeError, match="injected"):
        Provisioner(kit.control, store_schema, fault=fail_at_owner).create(request)
    monkeypatch.undo()
    row = kit.row(slug)
    assert row.status == TenantStatus.FAILED and row.provisioning_step == "schema"
    assert kit.objects(slug) == ({row.database_name}, set())  # database kept, user gone

    resumed = kit.cli(*create_args(slug), "--resume")
    assert resumed.exit_code == 0, resumed.output
    row = assert_settled(kit, slug)
    assert runtime_count(kit, row, "staff_users") == 1


@pytest.mark.parametrize("step", ["user", "schema", "owner"])
def test_create_survives_its_ddl_connections_killed_by_the_server(kit, step):
    slug = unique_slug("kk")
    run = kit.start(step, *create_args(slug))
    run.wait_paused()
    kit.kill_ddl_connections()
    code, out, err = run.go()
    assert code == 0, err
    assert out.startswith(f"store {slug} is active")
    row = assert_settled(kit, slug)
    assert runtime_count(kit, row, "staff_users") == 1


# -- clone ----------------------------------------------------------------------
CLONE_STEPS = ["database", "user", "grant", "schema", "load", "verify", "upgrade", "switch"]


@pytest.fixture(scope="module")
def source(kit):
    tenant = Provisioner(kit.control, store_schema).create(
        StoreRequest(slug=unique_slug("src"), name="Source")
    )
    engine = kit.control.backend(tenant.server).ddl_engine(tenant.database_name)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, description, price_minor, stock, is_active, "
                "created_at, updated_at) VALUES ('TEA-1', 'Sencha', '', 450, 7, 1, NOW(), NOW())"
            )
        )
    engine.dispose()
    return tenant.slug


@pytest.mark.parametrize("step", CLONE_STEPS)
def test_clone_killed_at_each_step_is_repaired(kit, source, step):
    new = unique_slug("cl")
    run = kit.start(step, "tenants", "clone", source, new)
    run.wait_paused()
    assert kit.row(new).status == TenantStatus.RESTORING
    assert_live_run_is_not_taken_over(kit, new)
    run.kill()
    kit.wait_stuck(new)
    line = repair_twice(kit, new, gone=True)
    assert line == f"store {new} was removed: its clone died at step {kit_step(step)}"
    assert kit.row(new) is None
    assert kit.objects(new) == (set(), set())
    assert_settled(kit, source)


def kit_step(step: str) -> str:
    """The job's last recorded step when paused before *step*."""
    return CLONE_STEPS[CLONE_STEPS.index(step) - 1] if step != "database" else "claim"


def test_clone_with_its_ddl_connections_killed_mid_load_leaves_nothing(kit, source):
    new = unique_slug("cl")
    run = kit.start("load:rows", "tenants", "clone", source, new)
    run.wait_paused()
    assert kit.kill_ddl_connections() >= 1
    code, _out, err = run.go()
    assert code == 1 and "clone of store" in err and "nothing was switched" in err, err
    assert kit.row(new) is None
    assert kit.objects(new) == (set(), set())
    assert_settled(kit, source)
