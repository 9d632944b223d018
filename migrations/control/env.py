"""Alembic env for the control database (``alembic -n control upgrade head``)."""

from alembic import context

from tenancy import settings as app_settings
from tenancy.db import make_engine
from tenancy.models import Base

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=conn.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    settings = app_settings.load()
    engine = make_engine(settings["backoffice.control_url"])
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
