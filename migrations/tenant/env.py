"""Alembic env for one store's database.

From the shell: ``alembic -n tenant -x tenant=SLUG upgrade head`` (runs under
the server's DDL identity). The CLI's ``backoffice tenants migrate`` does not
go through this file: it drives Alembic directly over many stores.
"""

from alembic import context

from backoffice.models import metadata
from tenancy import settings as app_settings
from tenancy.control import ControlPlane

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:
    context.configure(
        connection=conn, target_metadata=metadata, render_as_batch=conn.dialect.name == "sqlite"
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    slug = context.get_x_argument(as_dictionary=True).get("tenant")
    if not slug:
        raise SystemExit("pass the store: alembic -n tenant -x tenant=SLUG ...")
    control = ControlPlane(app_settings.load())
    with control.session() as session:
        tenant = control.tenant(session, slug)
        engine = control.backend(tenant.server).ddl_engine(tenant.database_name)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
    control.dispose()
