"""The tenant directory's lookups on the MariaDB control database: what a miss
reads, what it caches, and that an invalidation or a revocation is seen."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, update

from tenancy.directory import TenantDirectory
from tenancy.models import ApiKeyIndex
from tests.routing.conftest import provision_shops


@pytest.fixture(scope="module")
def shops(mysql_control):
    return provision_shops(mysql_control, 2, customers=False)


@contextmanager
def statements(control):
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(control.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(control.engine, "before_cursor_execute", before)


def test_an_api_key_miss_is_one_statement_and_caches_its_store(mysql_control, shops):
    shop = shops[0]
    directory = TenantDirectory(mysql_control, ttl=60)
    with statements(mysql_control) as seen:
        ref = directory.by_api_key(shop.key)
        assert ref is not None and (ref.id, ref.slug) == (shop.id, shop.slug)
        assert len(seen) == 1
        assert directory.by_id(shop.id) == ref  # read with the key
        assert directory.by_api_key(shop.key) == ref
        assert len(seen) == 1
    assert ref.server_name == "maria" and ref.database_name == shop.database_name
    assert ref.default_locale == "en" and ref.status == "active"


def test_lookups_by_slug_and_id_agree(mysql_control, shops):
    directory = TenantDirectory(mysql_control, ttl=0)
    for shop in shops:
        by_slug = directory.by_slug(shop.slug)
        assert by_slug == directory.by_id(shop.id)
        assert by_slug.db_user == shop.db_user
    assert directory.by_slug("no-such-store") is None
    assert directory.by_id(10**9) is None
    assert directory.by_host("nothing.example") is None


def test_a_wrong_secret_a_revoked_key_and_another_stores_prefix(mysql_control, shops):
    directory = TenantDirectory(mysql_control, ttl=60)
    shop, other = shops
    assert directory.by_api_key(shop.key[:-4] + "AAAA") is None  # right prefix, wrong secret
    assert directory.by_api_key(shop.revoked_key) is None
    assert directory.by_api_key("bo_live_short") is None
    assert directory.by_api_key(other.key).id == other.id


def test_invalidate_drops_the_key_and_its_store(mysql_control):
    [shop] = provision_shops(mysql_control, 1, customers=False)
    directory = TenantDirectory(mysql_control, ttl=60)
    assert directory.by_api_key(shop.key) is not None
    with mysql_control.session() as session:
        session.execute(
            update(ApiKeyIndex)
            .where(ApiKeyIndex.tenant_id == shop.id)
            .values(revoked_at=datetime.now(UTC).replace(tzinfo=None))
        )
        session.commit()
    assert directory.by_api_key(shop.key) is not None  # cached for the TTL
    directory.invalidate(directory.by_id(shop.id))
    with statements(mysql_control) as seen:
        assert directory.by_api_key(shop.key) is None
        assert len(seen) == 1
