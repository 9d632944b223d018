"""``backoffice tenants migrate --all``: every store gets a result; one failure stops none."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text

from backoffice.models import metadata
from backoffice.schema import store_schema
from tenancy.models import Tenant
from tenancy.provisioning import Provisioner, StoreRequest
from tests.backoffice.conftest import run_cli
from tests.conftest import unique_slug


def provision(control, count):
    return [
        Provisioner(control, store_schema).create(
            StoreRequest(slug=unique_slug("mig"), name="Migrate")
        )
        for _ in range(count)
    ]


def on_store(control, tenant, *statements):
    engine = control.backend(tenant.server).ddl_engine(tenant.database_name)
    with engine.begin() as conn:
        for statement in statements:
            statement(conn) if callable(statement) else conn.execute(text(statement))
    engine.dispose()


def revisions(control):
    with control.session() as session:
        return dict(session.execute(select(Tenant.slug, Tenant.schema_revision)).all())


def test_migrate_all_with_one_broken_store(private_control, ini_for):
    behind, also_behind, broken = provision(private_control, 3)
    for tenant in (behind, also_behind):  # back to an empty database: base revision
        on_store(private_control, tenant, metadata.drop_all, "DROP TABLE alembic_version")
    on_store(private_control, broken, "UPDATE alembic_version SET version_num = 'bogus1'")
    with private_control.session() as session:
        for tenant in session.scalars(select(Tenant)):
            tenant.schema_revision = None
        session.commit()

    result = run_cli(
        ini_for(private_control.settings),
        "tenants",
        "migrate",
        "--all",
        "--json",
        "--concurrency",
        "2",
    )
    assert result.exit_code == 1, result.output
    rows = {row["slug"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {behind.slug, also_behind.slug, broken.slug}
    for tenant in (behind, also_behind):
        assert rows[tenant.slug]["ok"] is True
        assert rows[tenant.slug]["revision"] == store_schema.head()
        assert rows[tenant.slug]["error"] is None
    assert rows[broken.slug]["ok"] is False
    assert "bogus1" in rows[broken.slug]["error"]
    latest = store_schema.head()
    assert revisions(private_control) == {
        behind.slug: latest,
        also_behind.slug: latest,
        broken.slug: None,
    }
    engine = private_control.backend(behind.server).ddl_engine(behind.database_name)
    with engine.connect() as conn:
        assert set(metadata.tables) <= set(inspect(conn).get_table_names())
    engine.dispose()


def test_migrate_all_text_output(private_control, ini_for):
    stores = provision(private_control, 2)
    result = run_cli(ini_for(private_control.settings), "tenants", "migrate", "--all")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "2 migrated, 0 failed"
    assert {line.split()[0] for line in lines[:-1]} == {t.slug for t in stores}
