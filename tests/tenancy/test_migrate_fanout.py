"""The tenant fan-out on MariaDB: parallel stores each get their own migration.

Alembic's ``op`` is a process-wide proxy, so a threaded fan-out used to send
one store's DDL down another store's connection; these tests would see a
missing column, a wrong revision or an error for some store.
"""

import shutil

from sqlalchemy import create_engine, inspect, select, text

from backoffice.schema import StoreSchema, store_schema
from migrations import TENANT_DIR
from tenancy.migrate import migrate_stores
from tenancy.models import Tenant

REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "fan1"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("fanout_note", sa.String(64), nullable=True))
"""


def scripts_with_revision(tmp_path):
    location = tmp_path / "tenant"
    shutil.copytree(TENANT_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "fan1_note.py").write_text(REVISION.format(down=store_schema.head()))
    return location


def store_state(control, tenant):
    engine = create_engine(control.backend(tenant.server).ddl_url(tenant.database_name))
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("customers")}
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()
    return "fanout_note" in columns, revision


def test_parallel_fanout_migrates_every_store_and_records_it(control, make_store, tmp_path):
    stores = [make_store() for _ in range(6)]
    seen = []
    results = migrate_stores(
        control,
        StoreSchema(scripts_with_revision(tmp_path)),
        stores,
        concurrency=3,
        target="fan1",
        on_result=seen.append,
    )
    assert [r.slug for r in results] == [s.slug for s in stores]
    assert all(r.ok and r.revision == "fan1" for r in results), results
    assert sorted(r.slug for r in seen) == sorted(s.slug for s in stores)
    for store in stores:
        assert store_state(control, store) == (True, "fan1")
    with control.session() as session:
        recorded = session.scalars(
            select(Tenant.schema_revision).where(Tenant.id.in_([s.id for s in stores]))
        ).all()
    assert recorded == ["fan1"] * len(stores)


def test_one_broken_store_does_not_stop_the_others(control, make_store, tmp_path):
    stores = [make_store() for _ in range(4)]
    broken = stores[1]
    engine = create_engine(control.backend(broken.server).ddl_url(broken.database_name))
    with engine.begin() as conn:  # the column exists already: its ALTER fails
        conn.execute(text("ALTER TABLE customers ADD COLUMN fanout_note VARCHAR(64) NULL"))
    engine.dispose()
    schema = StoreSchema(scripts_with_revision(tmp_path))
    results = migrate_stores(control, schema, stores, concurrency=2, target="fan1")
    by_slug = {r.slug: r for r in results}
    assert not by_slug[broken.slug].ok and "fanout_note" in by_slug[broken.slug].error
    for store in stores:
        if store is not broken:
            assert by_slug[store.slug].ok
            assert store_state(control, store) == (True, "fan1")
    assert store_state(control, broken)[1] == store_schema.head()
