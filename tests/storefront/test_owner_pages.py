"""The owner's pages: API keys (shown once, revocable) and webhooks (secret once, log)."""

from __future__ import annotations

import re

import pytest
from webtest import TestApp

from backoffice.config import make_app
from tests.backoffice.admin_fixtures import Admin, add_staff
from tests.storefront.conftest import TEST_SETTINGS, order_body, seed
from tests.storefront.test_webhooks import Receiver

KEY_RE = re.compile(r"bo_live_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def web(mysql_settings, control):
    return TestApp(make_app({**mysql_settings, **TEST_SETTINGS}, control=control))


@pytest.fixture
def store(make_store, control):
    store = make_store(owner=True, name="Tea & Co")
    seed(control, store)
    return store


@pytest.fixture
def owner(web, store):
    admin = Admin(web, store)
    admin.login()
    return admin


def create_key(owner, name="site", scopes=("read", "write")) -> str:
    res = owner.post("/api-keys", {"name": name, "scopes": list(scopes)})
    [key] = KEY_RE.findall(res.text)
    return key


def api(web, store, key, **kw):
    return web.get(
        f"/s/{store.slug}/api/v1/products", headers={"Authorization": f"Bearer {key}"}, **kw
    )


def test_owner_creates_uses_and_revokes_a_key(web, owner, store):
    key = create_key(owner)
    assert res_has_no_key(owner.get("/api-keys"), key)  # shown once only
    assert [p["sku"] for p in api(web, store, key).json["data"]][-1] == "TEA-1"
    listing = owner.get("/api-keys").text
    assert key[:16] in listing and "owner@example.com" in listing
    key_id = re.search(r"/api-keys/(\d+)/revoke", listing).group(1)
    owner.post(f"/api-keys/{key_id}/revoke", status=303)
    api(web, store, key, status=401)
    assert "Revoked" in owner.get("/api-keys").text


def res_has_no_key(res, key) -> bool:
    return key not in res.text and key[17:] not in res.text


def test_key_form_errors_and_scopes(web, owner, store):
    res = owner.post("/api-keys", {"name": "", "scopes": ["read"]}, status=422)
    assert "Give the key a name" in res.text and not KEY_RE.search(res.text)
    res = owner.post("/api-keys", {"name": "x"}, status=422)
    assert "Choose the scopes" in res.text
    read_only = create_key(owner, "reader", ["read"])
    web.post_json(
        f"/s/{store.slug}/api/v1/orders",
        order_body(),
        headers={"Authorization": f"Bearer {read_only}"},
        status=403,
    )


def test_pages_need_a_manager_and_csrf(web, store, control):
    add_staff(control, store, "support@example.com", "support")
    admin = Admin(web, store)
    admin.get("/api-keys", status=303)  # signed out: to the login page
    admin.login("support@example.com", "staff-pass-1")
    admin.get("/api-keys", status=403)
    admin.get("/webhooks", status=403)
    admin.post("/api-keys", {"name": "x", "scopes": ["read"]}, status=403)
    add_staff(control, store, "manager@example.com", "manager")
    manager = Admin(TestApp(web.app), store)
    manager.login("manager@example.com", "staff-pass-1")
    manager.get("/api-keys", status=200)
    manager.app.post(
        manager.url("/api-keys"), {"name": "x", "scopes": ["read"]}, status=400
    )  # no CSRF token
    assert "API keys" in manager.get("/webhooks").text  # in the navigation


def test_owner_adds_a_webhook_and_sees_the_log(web, owner, store):
    site = Receiver(fail_first=1)
    try:
        res = owner.post(
            "/webhooks",
            {
                "url": site.url,
                "description": "shop site",
                "events": ["order.created", "order.status_changed"],
            },
        )
        [secret] = re.findall(r"whsec_[A-Za-z0-9_-]{43}", res.text)
        site.secret = secret
        assert secret not in owner.get("/webhooks").text
        key = create_key(owner)
        web.post_json(
            f"/s/{store.slug}/api/v1/orders",
            order_body(),
            headers={"Authorization": f"Bearer {key}"},
            status=201,
        )
        assert [r["valid"] for r in site.received] == [True, True]
        log = owner.get("/webhooks/deliveries").text
        assert "order.created" in log and "delivered" in log and site.url in log
        res = owner.post(
            "/webhooks", {"url": "ftp://nope", "events": ["order.created"]}, status=422
        )
        assert "http://" in res.text
    finally:
        site.close()
