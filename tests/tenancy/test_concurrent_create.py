"""Two creates of one slug at the same moment: one store, one clear refusal."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from backoffice.schema import store_schema
from tenancy.models import Tenant, TenantStatus
from tenancy.provisioning import Provisioner, StoreExists, StoreRequest
from tests.conftest import unique_slug
from tests.tenancy.helpers import server_objects


def test_two_creates_of_one_slug_one_wins(own_control, root_engine, mysql_settings):
    slug = unique_slug("race")
    # Both threads wait here, after the "slug taken?" check and before the insert,
    # so only the unique constraint can decide between them.
    barrier = threading.Barrier(2, timeout=10)

    def fault(step):
        if step == "control_row":
            barrier.wait()

    def create():
        try:
            return Provisioner(own_control, store_schema, fault=fault).create(
                StoreRequest(slug=slug, name="Race")
            )
        except StoreExists as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: create(), range(2)))

    winners = [o for o in outcomes if isinstance(o, Tenant)]
    losers = [o for o in outcomes if isinstance(o, StoreExists)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert str(losers[0]) == f"store {slug!r} already exists (another create won the race)"
    with own_control.session() as session:
        assert session.scalar(select(func.count()).where(Tenant.slug == slug)) == 1
        assert own_control.tenant(session, slug).status == TenantStatus.ACTIVE
    with root_engine.connect() as conn:
        databases, users = server_objects(conn, slug, mysql_settings["backoffice.db_prefix"])
    assert databases == {winners[0].database_name}
    assert users == {winners[0].db_user}


def test_create_of_an_existing_slug_is_refused(make_store):
    tenant = make_store()
    with pytest.raises(StoreExists) as refused:
        make_store(tenant.slug)
    assert str(refused.value) == f"store {tenant.slug!r} already exists (status active)"
