from sqlalchemy import create_engine, text

from tenancy.models import TenantStatus


def test_store_user_reads_and_writes_only_its_database(control, make_store):
    tenant = make_store(owner=True)
    assert tenant.status == TenantStatus.ACTIVE
    engine = create_engine(control.runtime_url(tenant))
    with engine.begin() as conn:
        databases = {row[0] for row in conn.execute(text("SHOW DATABASES"))}
        assert databases == {"information_schema", tenant.database_name}
        conn.execute(text("INSERT INTO customers (email, name, phone, created_at) "
                          "VALUES ('a@b.c', 'A', '', NOW())"))
        assert conn.scalar(text("SELECT COUNT(*) FROM staff_users")) == 1
    engine.dispose()


def test_sqlite_embedded_store(sqlite_control):
    from backoffice.schema import store_schema
    from tenancy import migrate
    from tenancy.provisioning import Provisioner, StoreRequest

    tenant = Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug="corner-shop", name="Corner"))
    assert tenant.status == TenantStatus.ACTIVE
    assert tenant.schema_revision == migrate.head("tenant")
