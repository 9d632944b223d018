from sqlalchemy import create_engine, text

from tenancy.models import TenantStatus


def test_store_user_reads_and_writes_only_its_database(control, make_store):
    tenant = make_store(owner=True)
    assert tenant.status == TenantStatus.ACTIVE
    engine = create_engine(control.runtime_url(tenant))
    with engine.begin() as conn:
        databases = {row[0] for row in conn.execute(text("SHOW DATABASES"))}
        assert databases == {"information_schema", tenant.database_name}
        conn.execute(
            text(
                "INSERT INTO customers (email, name, phone, created_at, updated_at) "
                "VALUES ('a@b.c', 'A', '', NOW(), NOW())"
            )
        )
        assert conn.scalar(text("SELECT COUNT(*) FROM staff_users")) == 1
    engine.dispose()


def test_sqlite_embedded_store(sqlite_control):
    from backoffice.schema import store_schema
    from tenancy.provisioning import Provisioner, StoreRequest

    tenant = Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug="corner-shop", name="Corner")
    )
    assert tenant.status == TenantStatus.ACTIVE
    assert tenant.schema_revision == store_schema.head()


def test_a_sqlite_store_is_served_with_its_foreign_keys_enforced(sqlite_settings, sqlite_control):
    """The app's engine for an embedded store (the registry's) runs SQLite's
    pragmas as every other engine does: foreign keys on (so an order's lines go
    with it, and a line cannot point at no order), WAL, a busy timeout."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from backoffice.config import make_app
    from backoffice.schema import store_schema
    from tenancy.provisioning import Provisioner, StoreRequest

    tenant = Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug="fk-shop", name="FK")
    )
    registry = make_app(sqlite_settings, control=sqlite_control).registry
    ref = registry.directory.by_slug(tenant.slug)
    with registry.engines.lease(ref) as engine, engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        conn.exec_driver_sql(
            "INSERT INTO orders (id, number, status, payment_status, customer_name, "
            "customer_email, customer_phone, shipping_address, currency, subtotal_minor, "
            "shipping_minor, total_minor, source, locale, created_at, updated_at) VALUES "
            "(1, 'A-1', 'new', 'unpaid', '', '', '', '', 'EUR', 0, 0, 0, 'backoffice', 'en', "
            "'2026-01-01', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO order_lines (order_id, sku, name, quantity, "
            "unit_price_minor, total_minor) VALUES (1, 'S', 'S', 1, 1, 1)"
        )
        conn.exec_driver_sql("DELETE FROM orders WHERE id = 1")
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM order_lines").scalar() == 0
        with pytest.raises(IntegrityError), conn.begin_nested():
            conn.exec_driver_sql(
                "INSERT INTO order_lines (order_id, sku, name, quantity, "
                "unit_price_minor, total_minor) VALUES (99, 'S', 'S', 1, 1, 1)"
            )
    registry.engines.dispose()
