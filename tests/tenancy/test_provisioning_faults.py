"""The provisioning saga under faults at every step, on MariaDB, with a non-root admin.

After any failure: no orphan database or MySQL user, the store is ``failed`` with
an error naming the step, and ``create(..., resume=True)`` yields a working store.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from backoffice.schema import store_schema
from tenancy.models import Job, Tenant, TenantStatus
from tenancy.provisioning import STEPS, Provisioner, StoreExists, StoreRequest
from tests.conftest import unique_slug
from tests.tenancy.helpers import kill_connections, next_number, server_objects

SERVER_STEPS = STEPS[1:]  # every step after the control row exists


class Injected(RuntimeError):
    pass


@pytest.fixture
def admin_server(own_control, admin_user):
    """A server registered with the dedicated admin URL; returns its name."""
    name = f"adm-{next_number()}"
    with own_control.session() as session:
        own_control.add_server(session, name, admin_user.url)
        session.commit()
    return name


@pytest.fixture
def saga(own_control, admin_server, mysql_settings, root_engine):
    """Run a create with a fault hook; report what the server and control DB hold."""

    class Saga:
        prefix = mysql_settings["backoffice.db_prefix"]

        def __init__(self):
            self.request = StoreRequest(
                slug=unique_slug("fault"),
                name="Faulty",
                server=admin_server,
                owner_email="o@example.com",
                owner_password="owner-pass-1",
            )

        def create(self, fault=None, *, resume=False):
            return Provisioner(own_control, store_schema, fault=fault).create(
                self.request, resume=resume
            )

        def objects(self):
            with root_engine.connect() as conn:
                return server_objects(conn, self.request.slug, self.prefix)

        def row(self):
            with own_control.session() as session:
                return session.scalar(select(Tenant).where(Tenant.slug == self.request.slug))

        def jobs(self):
            with own_control.session() as session:
                return list(
                    session.scalars(
                        select(Job).where(Job.tenant_slug == self.request.slug).order_by(Job.id)
                    )
                )

    return Saga()


def at(step, action):
    def fault(current):
        if current == step:
            action()

    return fault


def assert_working(control, saga, tenant):
    assert tenant.status == TenantStatus.ACTIVE
    row = saga.row()
    assert row.status == TenantStatus.ACTIVE and row.error is None
    assert saga.objects() == ({row.database_name}, {row.db_user})
    engine = create_engine(control.runtime_url(row), poolclass=NullPool)
    with engine.connect() as conn:
        assert set(conn.scalars(text("SHOW DATABASES"))) == {
            "information_schema",
            row.database_name,
        }
        assert conn.scalar(text("SELECT COUNT(*) FROM staff_users")) == 1
    engine.dispose()


def assert_failed_cleanly(saga, step):
    assert saga.objects() == (set(), set())
    row = saga.row()
    if step == "control_row":  # the fault came before the row was written
        assert row is None
        return
    assert row.status == TenantStatus.FAILED
    assert row.error.startswith(f"failed at step {step} ")
    assert "clean-up incomplete" not in row.error
    assert saga.jobs()[-1].state == "failed"


@pytest.mark.parametrize("step", STEPS)
def test_exception_at_each_step_compensates_and_resumes(own_control, saga, step):
    def boom():
        raise Injected(f"injected at {step}")

    with pytest.raises(Injected):
        saga.create(at(step, boom))
    assert_failed_cleanly(saga, step)
    if step != "control_row":
        assert f"Injected: injected at {step}" in saga.row().error
        with pytest.raises(StoreExists, match="--resume"):
            saga.create()  # a plain retry is refused while the failed row exists
    assert_working(own_control, saga, saga.create(resume=True))


@pytest.mark.parametrize("step", STEPS)
def test_killed_admin_connection_then_failure_still_cleans_up(
    own_control, saga, root_engine, admin_user, step
):
    """Compensation must not reuse a connection the server killed."""

    def kill_then_fail():
        with root_engine.begin() as conn:
            kill_connections(conn, admin_user.name)
        raise Injected("the admin connection was killed")

    with pytest.raises(Injected):
        saga.create(at(step, kill_then_fail))
    assert_failed_cleanly(saga, step)
    assert_working(own_control, saga, saga.create(resume=True))


@pytest.mark.parametrize("step", STEPS)
def test_killed_admin_connection_alone_is_survived(
    own_control, saga, root_engine, admin_user, step
):
    """A killed pooled connection is replaced (pre-ping): the create still succeeds."""
    killed = []

    def kill():
        with root_engine.begin() as conn:
            killed.append(kill_connections(conn, admin_user.name))

    tenant = saga.create(at(step, kill))
    assert_working(own_control, saga, tenant)
    if step not in {"control_row", "database"}:
        assert killed[0] >= 1, "the pool held no admin connection to kill"


@pytest.mark.parametrize("step", SERVER_STEPS)
def test_server_gone_during_compensation_resumes(own_control, saga, root_engine, admin_user, step):
    """The admin account becomes unusable mid-create: clean-up cannot run either."""

    def server_goes_away():
        with root_engine.begin() as conn:
            conn.execute(text("ALTER USER :u@'%' ACCOUNT LOCK"), {"u": admin_user.name})
            kill_connections(conn, admin_user.name)
        raise Injected("the database server went away")

    with pytest.raises(Injected):
        saga.create(at(step, server_goes_away))
    row = saga.row()
    assert row.status == TenantStatus.FAILED
    assert row.error.startswith(f"failed at step {step} ")
    assert row.error.endswith("(clean-up incomplete; --resume continues)")
    assert row.provisioning_step == STEPS[STEPS.index(step) - 1]
    with root_engine.begin() as conn:
        conn.execute(text("ALTER USER :u@'%' ACCOUNT UNLOCK"), {"u": admin_user.name})
    assert_working(own_control, saga, saga.create(resume=True))
    assert [job.state for job in saga.jobs()] == ["failed", "done"]
