"""A store changed by one process is forgotten by every other process at once.

Each app below has a control plane of its own, hence its own directory and its
own Redis listener, as separate web processes have; the operator's change is
made through a third control plane (the CLI's), whose commit publishes it.
The directory's TTL is five minutes: only the message can explain a prompt 403.
"""

import time

import pytest
from sqlalchemy import select
from webtest import TestApp

from backoffice.config import configure
from tenancy import operations
from tenancy.control import ControlPlane
from tenancy.events import LocalEvents, announce
from tenancy.models import Tenant

LONG_TTL = {"backoffice.tenant_cache_ttl": "300"}


class App:
    """One web process: its own control plane, directory, engines and listener."""

    def __init__(self, settings):
        wsgi = configure(settings).make_wsgi_app()
        self.registry = wsgi.registry
        self.web = TestApp(wsgi)
        assert self.registry.control.events.ready.wait(10), "listener not subscribed"

    def login_page(self, slug, **kw):
        return self.web.get("/admin/login", headers={"Host": f"{slug}.shops.test"}, **kw)

    def close(self):
        self.registry.engines.dispose()
        self.registry.control.dispose()


@pytest.fixture
def apps(mysql_settings, shared_state):
    settings = {**mysql_settings, **shared_state, **LONG_TTL}
    made = [App(settings), App(settings)]
    yield made
    for app in made:
        app.close()


@pytest.fixture
def operator(mysql_settings, shared_state):
    control = ControlPlane({**mysql_settings, **shared_state})
    yield control
    control.dispose()


def eventually(check, seconds=2.0):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.01)
    return time.monotonic()


def test_a_suspension_reaches_every_process_at_once(apps, operator, make_store):
    store = make_store(owner=True)
    for app in apps:
        app.login_page(store.slug, status=200)  # cached for 5 minutes from now
    with operator.session() as session:
        started = time.monotonic()
        operations.suspend(operator, session, store.slug)
    for app in apps:
        seen = eventually(
            lambda app=app: app.login_page(store.slug, expect_errors=True).status_int == 403
        )
        assert seen - started < 1.0
    with operator.session() as session:
        operations.resume(operator, session, store.slug)
    for app in apps:
        eventually(lambda app=app: app.login_page(store.slug, expect_errors=True).status_int == 200)


def test_a_rotated_password_retires_the_engines_at_once(apps, operator, make_store):
    store = make_store(owner=True)
    for app in apps:
        app.login_page(store.slug, status=200)
    created = [app.registry.engines.created for app in apps]
    with operator.session() as session:
        operations.rotate_password(operator, session, store.slug)
    for app, before in zip(apps, created, strict=True):
        eventually(lambda app=app: app.registry.directory.by_slug(store.slug).version > 1 + 1)
        app.login_page(store.slug, status=200)  # a new engine, on the new password
        assert app.registry.engines.created == before + 1


def test_the_listener_comes_back_and_forgets_what_it_may_have_missed(
    apps, operator, make_store, state_redis
):
    store = make_store(owner=True)
    app = apps[0]
    events = app.registry.control.events
    app.login_page(store.slug, status=200)
    before = events.reconnects
    # What a Redis restart does to a subscriber: its connection is cut.
    state_redis.client_kill_filter(_type="pubsub")
    eventually(lambda: events.reconnects > before, seconds=5)
    # A change made while it was away: published to nobody.
    with operator.session() as session:
        tenant = operator.tenant(session, store.slug)
        tenant.status = "suspended"
        session.commit()  # no version bump: no message, as if it were lost
    assert eventually(events.ready.is_set, seconds=5)
    # Back, it dropped its whole directory: the next lookup reads the control DB.
    app.login_page(store.slug, status=403)
    with operator.session() as session:
        operations.resume(operator, session, store.slug)  # and it hears again
    eventually(lambda: app.login_page(store.slug, expect_errors=True).status_int == 200)


def test_a_change_is_published_after_commit_and_never_for_a_rollback(sqlite_control):
    heard = []
    assert isinstance(sqlite_control.events, LocalEvents)  # no Redis: this process only
    sqlite_control.events.subscribe(heard.append)
    with sqlite_control.session() as session:
        tenant = Tenant(
            slug="evt",
            name="E",
            server=sqlite_control.server(session),
            database_name="bo_evt",
            db_user="bo_evt",
            db_password_encrypted="-",
            status="active",
        )
        session.add(tenant)
        session.commit()
        assert heard == []  # a new row changes no cached lookup
        tenant.bump_version()
        session.flush()
        assert heard == []  # not before the commit
        session.rollback()
        assert heard == []
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "evt"))
        tenant.bump_version()
        session.commit()
        assert [(c.tenant_id, c.slug) for c in heard] == [(tenant.id, "evt")]
        announce(session, tenant.id, "evt")  # what a Core UPDATE of the version calls
        session.commit()
        assert len(heard) == 2
