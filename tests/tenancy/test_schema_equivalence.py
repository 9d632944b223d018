"""``create_all`` + stamp (new stores) and ``alembic upgrade`` from base (existing
stores) must build the same schema, for stores and for the control database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from backoffice.models import metadata as store_metadata
from backoffice.schema import store_schema
from tenancy import migrate
from tenancy.db import make_engine
from tenancy.models import Base
from tests.conftest import RUN_PREFIX
from tests.tenancy.helpers import next_number


def snapshot(conn: Connection) -> dict:
    """Everything the inspector reports that a migration could get wrong."""
    insp = inspect(conn)
    tables = {}
    for table in sorted(insp.get_table_names()):
        tables[table] = {
            "columns": [
                (c["name"], repr(c["type"]), c["nullable"], c.get("default"))
                for c in insp.get_columns(table)
            ],
            "primary_key": (
                insp.get_pk_constraint(table)["name"],
                tuple(insp.get_pk_constraint(table)["constrained_columns"]),
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    tuple(sorted(fk.get("options", {}).items())),
                )
                for fk in insp.get_foreign_keys(table)
            ),
        }
    return tables


SCRIPTS = {"tenant": store_schema.location, "control": migrate.CONTROL_SCRIPTS}


def build(kind: str, conn: Connection, how: str) -> None:
    if how == "upgrade":
        migrate.upgrade(conn, SCRIPTS[kind])
    elif kind == "tenant":
        store_schema.create(conn, fresh=True)
    else:
        Base.metadata.create_all(conn)
        migrate.stamp(conn, migrate.CONTROL_SCRIPTS)


@pytest.fixture
def mariadb_pair(root_engine, mysql_admin_url) -> Iterator[tuple]:
    """Two empty MariaDB databases of this run (dropped afterwards)."""
    n = next_number()
    names = [f"{RUN_PREFIX}_eq{n}a", f"{RUN_PREFIX}_eq{n}b"]
    with root_engine.begin() as conn:
        for name in names:
            conn.execute(
                text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
    engines = [
        make_engine(make_url(mysql_admin_url).set(database=name), poolclass=NullPool)
        for name in names
    ]
    yield tuple(engines)
    for engine in engines:
        engine.dispose()
    with root_engine.begin() as conn:
        for name in names:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))


@pytest.fixture
def sqlite_pair(tmp_path) -> Iterator[tuple]:
    engines = [make_engine(f"sqlite:///{tmp_path}/{name}.sqlite") for name in ("a", "b")]
    yield tuple(engines)
    for engine in engines:
        engine.dispose()


METADATA = {"tenant": store_metadata, "control": Base.metadata}


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
@pytest.mark.parametrize("kind", ["tenant", "control"])
def test_create_all_equals_upgrade_from_base(request, backend, kind):
    created, upgraded = request.getfixturevalue(f"{backend}_pair")
    with created.begin() as conn:
        build(kind, conn, "create_all")
    with upgraded.begin() as conn:
        build(kind, conn, "upgrade")
    with created.connect() as a, upgraded.connect() as b:
        fast, migrated = snapshot(a), snapshot(b)
        assert set(fast) == {*METADATA[kind].tables, "alembic_version"}
        assert fast == migrated
        assert (
            migrate.current_revision(a)
            == migrate.current_revision(b)
            == migrate.head(SCRIPTS[kind])
        )


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
@pytest.mark.parametrize("kind", ["tenant", "control"])
def test_migrations_match_the_models(request, backend, kind):
    """Alembic's own comparison finds nothing the migrations forgot."""
    _created, upgraded = request.getfixturevalue(f"{backend}_pair")
    with upgraded.begin() as conn:
        build(kind, conn, "upgrade")
    with upgraded.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), METADATA[kind])
    assert diffs == []
