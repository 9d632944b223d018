"""An app with probe views that read the bound store's data by id, and store fixtures.

The probe views are what a real view does with ``request.db``; they are
registered in the test's own Configurator, next to the app's real views.
"""

import secrets
import string
from dataclasses import dataclass
from datetime import datetime

import pymysql
import pytest
from pyramid.view import view_config
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from webtest import TestApp

from backoffice.config import configure
from backoffice.models import Customer
from backoffice.schema import store_schema
from tenancy.db import make_engine
from tenancy.directory import hash_api_key
from tenancy.models import ApiKeyIndex
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug

ALNUM = string.ascii_letters + string.digits


@view_config(route_name="probe.customer", renderer="json")
@view_config(route_name="probe.api_customer", renderer="json")
def probe_customer(request):
    customer = request.db.get(Customer, int(request.matchdict["id"]))
    if customer is None:
        request.response.status = 404
        return {"error": "no such customer"}
    return {"store": request.tenant.slug, "email": customer.email}


@view_config(route_name="probe.whoami", renderer="json")
def probe_whoami(request):
    if request.db.bind.dialect.name != "mysql":
        return {"store": request.tenant.slug, "database": request.tenant.database_name}
    database, user = request.db.execute(text("SELECT DATABASE(), CURRENT_USER()")).one()
    return {"store": request.tenant.slug, "database": database, "user": user.split("@")[0]}


@view_config(route_name="probe.write", renderer="json", request_method="POST")
def probe_write(request):
    request.db.execute(insert(Customer).values(email=request.params["email"], name="", phone=""))
    return {"ok": True}


@view_config(route_name="probe.boom", renderer="json")
def probe_boom(request):
    raise RuntimeError("secret internals that must not reach the client")


class LostAtCommit:
    """A transaction participant whose vote fails the way a MariaDB connection
    lost during COMMIT does: the request's transaction is then a failed one."""

    def __init__(self, transaction_manager):
        self.transaction_manager = transaction_manager

    def tpc_vote(self, txn):
        raise OperationalError(
            "COMMIT",
            {},
            pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"),
        )

    def abort(self, txn): ...
    def tpc_begin(self, txn): ...
    def commit(self, txn): ...
    def tpc_finish(self, txn): ...
    def tpc_abort(self, txn): ...

    def sortKey(self):
        return "~lost-at-commit"


@view_config(route_name="probe.commit_lost", renderer="json")
def probe_commit_lost(request):
    # Nothing read from the store before: the error page is the first to.
    request.tm.get().join(LostAtCommit(request.tm))
    return {"ok": True}


def build_app(settings, control, **overrides):
    config = configure({**settings, **overrides}, control=control)
    config.add_route("probe.customer", "/probe/customer/{id}")
    config.add_route("probe.api_customer", "/api/probe/customer/{id}")
    config.add_route("probe.whoami", "/probe/whoami")
    config.add_route("probe.write", "/probe/write")
    config.add_route("probe.boom", "/probe/boom")
    config.add_route("probe.commit_lost", "/probe/commit-lost")
    config.scan(__name__)
    return config.make_wsgi_app()


def seed_customer(control, tenant, email):
    engine = make_engine(control.runtime_url(tenant), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(insert(Customer).values(email=email, name="", phone=""))
        customer_id = conn.scalar(select(Customer.id).where(Customer.email == email))
    engine.dispose()
    return customer_id


def new_api_key() -> str:
    public = "".join(secrets.choice(ALNUM) for _ in range(8))
    return f"bo_live_{public}_{secrets.token_urlsafe(32)}"


def add_api_key(control, tenant_id: int, *, revoked: bool = False) -> str:
    key = new_api_key()
    with control.session() as session:
        session.add(
            ApiKeyIndex(
                prefix=key[: len("bo_live_") + 8],
                key_hash=hash_api_key(key),
                tenant_id=tenant_id,
                revoked_at=datetime(2024, 1, 1) if revoked else None,
            )
        )
        session.commit()
    return key


@dataclass(frozen=True)
class Shop:
    """A provisioned store with what the attack tests need to know about it."""

    id: int
    slug: str
    database_name: str
    db_user: str
    emails: tuple[str, ...]
    customer_ids: tuple[int, ...]
    key: str
    revoked_key: str

    @property
    def host(self) -> str:
        return f"{self.slug}.shops.test"


def provision_shops(control, count: int, *, customers: bool = True) -> list[Shop]:
    shops = []
    for index in range(count):
        tenant = Provisioner(control, store_schema).create(
            StoreRequest(slug=unique_slug("rt"), name=f"Shop {index}")
        )
        emails, ids = [], []
        # Different row counts per store, so some of B's ids do not exist in A.
        for n in range(index + 1 if customers else 0):
            email = f"secret-{n}-{tenant.slug}@{tenant.slug}.example"
            ids.append(seed_customer(control, tenant, email))
            emails.append(email)
        shops.append(
            Shop(
                tenant.id,
                tenant.slug,
                tenant.database_name,
                tenant.db_user,
                tuple(emails),
                tuple(ids),
                add_api_key(control, tenant.id),
                add_api_key(control, tenant.id, revoked=True),
            )
        )
    return shops


@pytest.fixture
def app_factory(mysql_settings, control):
    def make(**overrides):
        return TestApp(build_app(mysql_settings, control, **overrides))

    return make
