"""Fixtures of the back-office page tests: a store with an owner, a signed-in browser.

Imported by the ``test_admin_*`` modules (pytest finds fixtures by name there).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert
from sqlalchemy.pool import NullPool
from webtest import TestApp

from backoffice.config import make_app
from backoffice.demo import seed
from backoffice.models import StaffUser
from backoffice.security.passwords import hash_password
from tenancy.db import make_engine

OWNER = ("owner@example.com", "owner-pass-1")


class Admin:
    """A WebTest client for one store's back-office (path prefix ``/s/{slug}``)."""

    def __init__(self, app: TestApp, store):
        self.app, self.store = app, store
        self.prefix = f"/s/{store.slug}/admin"

    def url(self, path: str = "/") -> str:
        return self.prefix + path

    def get(self, path: str, **kw):
        return self.app.get(self.url(path), **kw)

    def post(self, path: str, params=None, **kw):
        params = dict(params or {})
        params.setdefault("csrf_token", self.csrf())
        return self.app.post(self.url(path), params, **kw)

    def csrf(self) -> str:
        res = self.app.get(self.url("/profile") if self.signed_in else self.url("/login"))
        return res.html.find("input", {"name": "csrf_token"})["value"]

    signed_in = False

    def login(self, email: str = OWNER[0], password: str = OWNER[1], status=303):
        res = self.app.get(self.url("/login"))
        form = res.forms[0]
        form["email"], form["password"] = email, password
        res = form.submit(status=status)
        self.signed_in = status == 303
        return res

    def logout(self):
        self.app.post(self.url("/logout"), {"csrf_token": self.csrf()}, status=303)
        self.signed_in = False


def store_engine(control, store):
    return make_engine(control.runtime_url(store), poolclass=NullPool)


def add_staff(
    control, store, email: str, role: str, password: str = "staff-pass-1", name: str = ""
) -> None:
    engine = store_engine(control, store)
    with engine.begin() as conn:
        conn.execute(
            insert(StaffUser).values(
                email=email,
                name=name,
                role=role,
                password_hash=hash_password(password),
                is_active=True,
                failed_logins=0,
            )
        )
    engine.dispose()


@contextmanager
def count_queries(engine_registry):
    """Count the statements every store engine executes inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine_registry, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine_registry, "before_cursor_execute", before)


@pytest.fixture
def web_app(mysql_settings, control):
    return TestApp(make_app(mysql_settings, control=control))


@pytest.fixture
def store(make_store):
    return make_store(owner=True, name="Tea & Co")


@pytest.fixture
def admin(web_app, store):
    return Admin(web_app, store)


@pytest.fixture
def owner(admin):
    admin.login()
    return admin


def seed_demo(control, store, orders: int = 60) -> None:
    engine = store_engine(control, store)
    with engine.begin() as conn:
        seed(conn, orders=orders)
    engine.dispose()


@pytest.fixture
def shop(control, store):
    """The store filled with the demo catalogue and 60 orders."""
    seed_demo(control, store)
    return store


@pytest.fixture
def shop_owner(web_app, shop):
    admin = Admin(web_app, shop)
    admin.login()
    return admin
