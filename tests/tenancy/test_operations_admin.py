"""Operator actions through a least-privilege admin account (not root)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from backoffice.schema import store_schema
from tenancy import operations
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug
from tests.tenancy.helpers import next_number, server_objects


@pytest.fixture
def admin_store(own_control, admin_user, root_engine, request):
    """A store on a server whose admin URL is the dedicated account."""
    extra = getattr(request, "param", None)
    if extra:
        # Global privileges apply from the next connection on: grant before any.
        with root_engine.begin() as conn:
            conn.execute(text(f"GRANT {extra} ON *.* TO :u@'%'"), {"u": admin_user.name})
    name = f"adm-{next_number()}"
    with own_control.session() as session:
        own_control.add_server(session, name, admin_user.url)
        session.commit()
    return Provisioner(own_control, store_schema).create(
        StoreRequest(slug=unique_slug("adm"), name="Admin", server=name)
    )


@pytest.mark.parametrize(
    ("admin_store", "ended", "warned"),
    [
        (None, False, False),  # cannot even see the session
        ("PROCESS", False, True),  # sees it, may not KILL it: a warning
        ("PROCESS, CONNECTION ADMIN", True, False),
    ],
    indirect=["admin_store"],
    ids=["minimal", "process", "process+connection-admin"],
)
def test_rotate_password_ends_open_sessions(own_control, admin_store, ended, warned, caplog):
    """Ending the old sessions needs PROCESS and CONNECTION ADMIN on top of the minimum."""
    engine = create_engine(own_control.runtime_url(admin_store), poolclass=NullPool)
    session = engine.connect()
    session.execute(text("SELECT 1"))
    with own_control.session() as db:
        operations.rotate_password(own_control, db, admin_store.slug)
    assert any("could not end session" in r.getMessage() for r in caplog.records) == warned
    try:
        if ended:
            with pytest.raises(OperationalError):
                session.execute(text("SELECT 1"))
        else:
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        session.invalidate()
        engine.dispose()


def test_drop_with_the_minimal_admin(own_control, root_engine, admin_store, mysql_settings):
    with own_control.session() as db:
        operations.drop(own_control, db, admin_store.slug)
    with root_engine.connect() as conn:
        assert server_objects(conn, admin_store.slug, mysql_settings["backoffice.db_prefix"]) == (
            set(),
            set(),
        )
