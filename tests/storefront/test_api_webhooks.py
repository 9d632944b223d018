"""Webhook endpoints managed through the API: the back office's URL checks, the secret
shown once, disable and delete, scopes, stores apart."""

from __future__ import annotations

from sqlalchemy import func, select
from webtest import TestApp

from backoffice.config import make_app
from backoffice.models import WebhookEndpoint
from backoffice.webhooks.delivery import secret_context
from tests.storefront.api_helpers import error, scalar
from tests.storefront.conftest import store_engine

HOOK = {"url": "https://hooks.example.com/orders", "events": ["order.created"]}


def fields(res) -> dict:
    return {f["field"]: f["message"] for f in error(res)["details"]["fields"]}


def endpoints(control, shop) -> int:
    return scalar(control, shop, select(func.count()).select_from(WebhookEndpoint))


def test_create_list_get_disable_delete(app, control, shop):
    h, r = shop.headers(), shop.headers("read")
    res = app.post_json("/api/v1/webhooks", {**HOOK, "description": "site"}, headers=h, status=201)
    hook, secret = res.json["webhook"], res.json["secret"]
    assert secret.startswith("whsec_")
    assert hook["url"] == HOOK["url"] and hook["events"] == ["order.created"]
    assert hook["active"] is True and hook["description"] == "site"
    assert res.headers["Location"].endswith(f"/api/v1/webhooks/{hook['id']}")
    # The stored secret is the one returned, and it is never shown again.
    engine = store_engine(control, shop.tenant)
    with engine.connect() as conn:
        stored = conn.execute(select(WebhookEndpoint).where(WebhookEndpoint.id == hook["id"])).one()
    engine.dispose()
    context = secret_context(shop.tenant.id, hook["id"])
    assert control.keyring.decrypt_text(stored.secret_encrypted, context=context) == secret
    listed = app.get("/api/v1/webhooks", headers=r)
    assert listed.json == {"data": [hook], "next_cursor": None}
    assert secret not in listed.text
    url = f"/api/v1/webhooks/{hook['id']}"
    assert app.get(url, headers=r).json == hook
    disabled = app.post_json(f"{url}/disable", {}, headers=h).json
    assert disabled["active"] is False
    app.post_json(f"{url}/disable", {}, headers=h, status=200)
    res = app.delete(url, headers=h, status=204)
    assert res.body == b""
    assert error(app.get(url, headers=r, status=404))["code"] == "not_found"
    assert endpoints(control, shop) == 0


def test_the_back_offices_url_checks_apply(api_settings, control, shop):
    strict = TestApp(
        make_app({**api_settings, "backoffice.webhook_allow_private": "false"}, control=control)
    )
    h = shop.headers()
    for url in ("http://127.0.0.1/x", "http://2130706433/", "http://localhost:8080/"):
        res = strict.post_json("/api/v1/webhooks", {**HOOK, "url": url}, headers=h, status=422)
        assert fields(res) == {"url": "This address is on a private network."}
    res = strict.post_json(
        "/api/v1/webhooks", {**HOOK, "url": "ftp://example.com/"}, headers=h, status=422
    )
    assert fields(res) == {"url": "Enter an http:// or https:// address."}
    res = strict.post_json(
        "/api/v1/webhooks", {**HOOK, "events": ["order.deleted"]}, headers=h, status=422
    )
    assert error(res)["code"] == "validation_failed"
    res = strict.post_json("/api/v1/webhooks", {**HOOK, "events": []}, headers=h, status=422)
    assert error(res)["code"] == "validation_failed"
    assert endpoints(control, shop) == 0


def test_scopes_and_stores(app, control, make_shop):
    a, b = make_shop(), make_shop()
    res = app.post_json("/api/v1/webhooks", HOOK, headers=a.headers("read"), status=403)
    assert error(res)["code"] == "insufficient_scope"
    res = app.get("/api/v1/webhooks", headers=a.headers("write"), status=403)
    assert error(res)["code"] == "insufficient_scope"
    hid = app.post_json("/api/v1/webhooks", HOOK, headers=a.headers()).json["webhook"]["id"]
    url = f"/api/v1/webhooks/{hid}"
    assert error(app.delete(url, headers=a.headers("read"), status=403))["code"] == (
        "insufficient_scope"
    )
    for call in (
        lambda: app.get(url, headers=b.headers(), status=404),
        lambda: app.post_json(f"{url}/disable", {}, headers=b.headers(), status=404),
        lambda: app.delete(url, headers=b.headers(), status=404),
    ):
        assert error(call())["code"] == "not_found"
    assert app.get("/api/v1/webhooks", headers=b.headers()).json["data"] == []
    assert app.get(url, headers=a.headers()).json["active"] is True
