"""``backoffice tenants ...`` against the real MariaDB: create, show, operate, drop."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from backoffice.schema import store_schema
from tenancy.keyring import generate_key
from tenancy.models import Job, Tenant, TenantStatus
from tests.backoffice.conftest import run_cli
from tests.conftest import unique_slug
from tests.tenancy.helpers import server_objects


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def fetch(control, slug) -> Tenant | None:
    with control.session() as session:
        return session.scalar(select(Tenant).where(Tenant.slug == slug))


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Bad Slug", "invalid slug 'Bad Slug': use lower-case letters"),
        ("ab", "invalid slug 'ab': 3-30 characters"),
        ("shop-", "invalid slug 'shop-'"),
        ("sh_op", "invalid slug 'sh_op'"),
        ("admin", "slug 'admin' is reserved"),
        ("www", "slug 'www' is reserved"),
    ],
)
def test_create_with_a_bad_slug_prints_one_line(bo, control, slug, message):
    line = one_error_line(bo("tenants", "create", slug, "--name", "Shop"))
    assert message in line
    assert fetch(control, slug) is None


def test_create_then_show_and_list(bo, control):
    slug = unique_slug("cli")
    result = bo(
        "tenants",
        "create",
        slug,
        "--name",
        "CLI Shop",
        "--owner-email",
        "o@example.com",
        "--owner-password",
        "owner-pass-1",
    )
    assert result.exit_code == 0, result.output
    tenant = fetch(control, slug)
    assert result.stdout.strip() == (
        f"store {slug} is active (database {tenant.database_name} on maria)"
    )
    shown = bo("tenants", "show", slug, "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["slug"] == slug and data["status"] == "active" and data["version"] == 2
    listed = json.loads(bo("tenants", "list", "--json", "--status", "active").stdout)
    assert slug in {row["slug"] for row in listed}
    table = bo("tenants", "list", "--status", "active").stdout.splitlines()
    assert table[0].split() == ["SLUG", "STATUS", "SERVER", "DATABASE", "REVISION"]
    [row] = [line.split() for line in table[1:] if line.split()[0] == slug]
    assert row[1:4] == ["active", "maria", tenant.database_name]


def test_create_twice_is_refused_in_one_line(bo, make_store):
    tenant = make_store()
    line = one_error_line(bo("tenants", "create", tenant.slug, "--name", "Again"))
    assert line == f"Error: store {tenant.slug!r} already exists (status active)"


def test_show_never_reveals_the_password(bo, control, make_store):
    tenant = make_store()
    password = control.password(tenant)
    for args in (
        ("show", tenant.slug, "--json"),
        ("show", tenant.slug),
        ("list", "--json"),
        ("list",),
    ):
        result = bo("tenants", *args)
        assert result.exit_code == 0, result.output
        assert password not in result.output
        assert tenant.db_password_encrypted not in result.output
        assert tenant.db_password_encrypted.split(".")[2][:16] not in result.output
    data = json.loads(bo("tenants", "show", tenant.slug, "--json").stdout)
    assert not [key for key in data if "password" in key or "secret" in key]


def test_unknown_store_is_one_line(bo):
    line = one_error_line(bo("tenants", "show", "no-such-store"))
    assert line == "Error: no store with slug 'no-such-store'"


def test_suspend_and_resume_bump_the_version(bo, control, make_store):
    tenant = make_store()
    result = bo("tenants", "suspend", tenant.slug)
    assert result.exit_code == 0 and result.stdout.strip() == f"store {tenant.slug} suspended"
    suspended = fetch(control, tenant.slug)
    assert (suspended.status, suspended.version) == (TenantStatus.SUSPENDED, tenant.version + 1)
    line = one_error_line(bo("tenants", "suspend", tenant.slug))
    assert "is suspended; this needs active" in line
    assert bo("tenants", "resume", tenant.slug).exit_code == 0
    resumed = fetch(control, tenant.slug)
    assert (resumed.status, resumed.version) == (TenantStatus.ACTIVE, tenant.version + 2)
    assert "is active; this needs suspended" in one_error_line(bo("tenants", "resume", tenant.slug))


def test_rotate_password(bo, control, make_store):
    tenant = make_store()
    old_url = control.runtime_url(tenant)
    old_engine = create_engine(old_url, poolclass=NullPool)
    open_session = old_engine.connect()  # a worker still connected with the old password
    open_session.execute(text("SELECT 1"))
    result = bo("tenants", "rotate-password", tenant.slug)
    assert result.exit_code == 0, result.output
    rotated = fetch(control, tenant.slug)
    assert rotated.version == tenant.version + 1
    assert control.password(rotated) != control.password(tenant)
    with pytest.raises(OperationalError):  # the old session was ended
        open_session.execute(text("SELECT 1"))
    open_session.invalidate()
    with pytest.raises(OperationalError, match="Access denied"):
        old_engine.connect()
    new_engine = create_engine(control.runtime_url(rotated), poolclass=NullPool)
    with new_engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM customers")) == 0
    for engine in (old_engine, new_engine):
        engine.dispose()


def test_drop_needs_yes(bo, control, root_engine, make_store, mysql_settings):
    tenant = make_store()
    line = one_error_line(bo("tenants", "drop", tenant.slug))
    assert line == f"Error: dropping {tenant.slug} deletes all its data; repeat with --yes to do it"
    assert fetch(control, tenant.slug).status == TenantStatus.ACTIVE
    with root_engine.connect() as conn:
        assert server_objects(conn, tenant.slug, mysql_settings["backoffice.db_prefix"]) == (
            {tenant.database_name},
            {tenant.db_user},
        )


def test_drop(bo, control, root_engine, make_store, mysql_settings):
    tenant = make_store()
    result = bo("tenants", "drop", tenant.slug, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"store {tenant.slug} dropped"
    assert fetch(control, tenant.slug) is None
    with root_engine.connect() as conn:
        assert server_objects(conn, tenant.slug, mysql_settings["backoffice.db_prefix"]) == (
            set(),
            set(),
        )
    with control.session() as session:
        jobs = list(
            session.scalars(select(Job).where(Job.tenant_slug == tenant.slug, Job.kind == "drop"))
        )
    assert len(jobs) == 1
    assert (jobs[0].state, jobs[0].tenant_id) == ("done", None)
    assert jobs[0].detail == {"database": tenant.database_name, "server": "maria"}
    assert one_error_line(bo("tenants", "drop", tenant.slug, "--yes")) == (
        f"Error: no store with slug {tenant.slug!r}"
    )


def test_migrate_names_unknown_stores(bo, make_store):
    tenant = make_store()
    result = bo("tenants", "migrate", tenant.slug, "no-such-store", "--json")
    assert result.exit_code == 1
    rows = {row["slug"]: row for row in json.loads(result.stdout)}
    assert rows["no-such-store"]["error"] == "no such store"
    assert rows[tenant.slug]["ok"] and rows[tenant.slug]["revision"] == store_schema.head()


def test_migrate_needs_slugs_or_all(bo):
    assert "name the stores to migrate" in one_error_line(bo("tenants", "migrate"))


def nothing_made(control, root_engine, mysql_settings, slug) -> bool:
    with root_engine.connect() as conn:
        objects = server_objects(conn, slug, mysql_settings["backoffice.db_prefix"])
    return fetch(control, slug) is None and objects == (set(), set())


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        (("o@example.com", "short"), "owner account: passwords need at least 8 characters"),
        (("not-an-address", "owner-pass-1"), "owner account: the owner e-mail is not an e-mail"),
    ],
)
def test_a_bad_owner_is_refused_before_anything_is_made(
    bo, control, root_engine, mysql_settings, owner, message
):
    """It provisioned everything, then printed a WeakPassword traceback and left a
    failed store."""
    slug = unique_slug("weak")
    email, password = owner
    result = bo(
        "tenants",
        "create",
        slug,
        "--name",
        "S",
        "--owner-email",
        email,
        "--owner-password",
        password,
    )
    assert message in one_error_line(result)
    assert nothing_made(control, root_engine, mysql_settings, slug)


def test_wrong_keys_are_refused_in_one_line_before_anything_is_made(
    ini_for, mysql_control, mysql_settings, control, root_engine
):
    """Keys that cannot read the server's admin URL printed chained tracebacks and
    left a failed row."""
    slug = unique_slug("keys")
    config = ini_for({**mysql_settings, "backoffice.keys": generate_key()})
    line = one_error_line(run_cli(config, "tenants", "create", slug, "--name", "S"))
    assert "unknown key" in line
    assert nothing_made(control, root_engine, mysql_settings, slug)
