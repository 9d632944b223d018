"""A store's MySQL user reaches its own database, with DML only, and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from backoffice.schema import store_schema
from tenancy.names import generate_database_name
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug
from tests.tenancy.helpers import grants_of

ACCESS_DENIED = {1044, 1045, 1142, 1143, 1227, 1410}


@pytest.fixture
def store_engine(control):
    engines = []

    def connect(tenant):
        engine = create_engine(control.runtime_url(tenant), poolclass=NullPool)
        engines.append(engine)
        return engine

    yield connect
    for engine in engines:
        engine.dispose()


@pytest.fixture(scope="module")
def locked_store(mysql_control):
    """One store for the tests that only try (and fail) to change it: saves a create each."""
    return Provisioner(mysql_control, store_schema).create(
        StoreRequest(slug=unique_slug("locked"), name="Locked")
    )


def denied(conn, sql: str) -> int:
    """Run *sql* expecting a privilege error; return the MySQL error code."""
    with pytest.raises(DBAPIError) as caught:
        conn.execute(text(sql))
    code = caught.value.orig.args[0]
    assert code in ACCESS_DENIED, f"{sql!r} failed for another reason: {caught.value.orig}"
    return code


def test_store_user_reads_and_writes_its_own_database(control, make_store, store_engine):
    tenant = make_store()
    with store_engine(tenant).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, description, price_minor, stock, "
                "is_active, created_at, updated_at) "
                "VALUES ('SKU-1', 'Tea', '', 100, 1, 1, NOW(), NOW())"
            )
        )
        conn.execute(text("UPDATE products SET stock = 5 WHERE sku = 'SKU-1'"))
        assert conn.scalar(text("SELECT stock FROM products WHERE sku = 'SKU-1'")) == 5
        conn.execute(text("DELETE FROM products WHERE sku = 'SKU-1'"))
        assert conn.scalar(text("SELECT COUNT(*) FROM products")) == 0


def test_store_user_sees_only_its_own_database(make_store, store_engine):
    tenant = make_store()
    make_store()  # a neighbour that must stay invisible
    with store_engine(tenant).connect() as conn:
        databases = set(conn.scalars(text("SHOW DATABASES")))
    assert databases == {"information_schema", tenant.database_name}


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE intruder (id INT PRIMARY KEY)",
        "DROP TABLE customers",
        "ALTER TABLE customers ADD COLUMN x INT",
        "CREATE INDEX ix_intruder ON customers (name)",
        "TRUNCATE TABLE customers",
        "CREATE USER 'intruder'@'%' IDENTIFIED BY 'x'",
        "SELECT User FROM mysql.user",
    ],
)
def test_store_user_cannot_change_schema_or_users(locked_store, store_engine, sql):
    with store_engine(locked_store).connect() as conn:
        denied(conn, sql)


def test_store_user_cannot_drop_or_grant(locked_store, store_engine):
    tenant = locked_store
    with store_engine(tenant).connect() as conn:
        denied(conn, f"DROP DATABASE `{tenant.database_name}`")
        denied(conn, f"GRANT SELECT ON `{tenant.database_name}`.* TO '{tenant.db_user}'@'%'")


def test_store_user_cannot_touch_another_store(make_store, store_engine):
    mine, theirs = make_store(), make_store()
    with store_engine(mine).connect() as conn:
        denied(conn, f"SELECT COUNT(*) FROM `{theirs.database_name}`.customers")
        denied(
            conn,
            f"INSERT INTO `{theirs.database_name}`.customers (email, name, phone, "
            "created_at) VALUES ('x@y.z', 'X', '', NOW())",
        )
        denied(conn, f"USE `{theirs.database_name}`")


def test_show_grants_is_exactly_usage_and_dml(root_engine, make_store):
    tenant = make_store()
    escaped = tenant.database_name.replace("_", r"\_")
    with root_engine.connect() as conn:
        grants = grants_of(conn, tenant.db_user, tenant.server.user_host)
    assert len(grants) == 2
    usage = next(g for g in grants if g.startswith("GRANT USAGE ON *.*"))
    assert usage.startswith(f"GRANT USAGE ON *.* TO `{tenant.db_user}`@`%` IDENTIFIED BY PASSWORD")
    assert (
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{escaped}`.* TO `{tenant.db_user}`@`%`" in grants
    )


class FixedSuffix(Provisioner):
    """Provisions under names the test controls: the random suffix is fixed."""

    suffix = "q1w2"

    def database_name(self, request):
        return generate_database_name(
            request.slug, self.control.settings["backoffice.db_prefix"], suffix=self.suffix
        )


def test_underscore_in_names_is_not_a_wildcard(control, make_store, store_engine):
    """If ``_`` were a wildcard, A's grant ``p_a_b_..`` would also cover ``p_axbx..``."""
    n = unique_slug("x").rsplit("-", 1)[1]
    run = control.settings["backoffice.db_prefix"].rstrip("_")
    slug_a, slug_b = f"a-b-{run}-{n}", f"axbx{run}x{n}"
    provisioner = FixedSuffix(control, store_schema)
    a = provisioner.create(StoreRequest(slug=slug_a, name="A"))
    b = provisioner.create(StoreRequest(slug=slug_b, name="B"))
    # The two names differ only where A has an underscore.
    assert len(a.database_name) == len(b.database_name)
    assert all(x == y or x == "_" for x, y in zip(a.database_name, b.database_name, strict=True))
    assert a.database_name != b.database_name
    with store_engine(a).connect() as conn:
        assert set(conn.scalars(text("SHOW DATABASES"))) == {"information_schema", a.database_name}
        denied(conn, f"SELECT COUNT(*) FROM `{b.database_name}`.customers")
        denied(conn, f"DELETE FROM `{b.database_name}`.customers")
