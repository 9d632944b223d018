"""Keys: required, bound to their store, revocable at once, scoped, rate limited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from webtest import TestApp

from backoffice.apikeys.services import ApiKeyService
from backoffice.config import make_app
from backoffice.models import ApiKey
from tests.storefront.conftest import order_body, store_engine


def error_of(response) -> dict:
    body = response.json
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_every_endpoint_requires_a_key(app, shop):
    for path in (
        "/api/v1/products",
        "/api/v1/products/TEA-1",
        "/api/v1/orders",
        "/api/v1/orders/1",
        "/api/v1/customers",
        "/api/v1/customers/1",
        "/api/v1/order-status/abc",
    ):
        res = app.get(path, headers={"Host": shop.host}, status=401)
        assert error_of(res)["code"] == "unauthorized"
        assert res.headers["WWW-Authenticate"].startswith("Bearer")
    for path in ("/api/v1/orders", "/api/v1/orders/1/status", "/api/v1/orders/1/notes"):
        res = app.post_json(path, {}, headers={"Host": shop.host}, status=401)
        assert error_of(res)["code"] == "unauthorized"


def test_unknown_or_malformed_keys_are_refused(app, shop):
    fake = shop.keys["rw"][:-4] + "AAAA"
    for header in (f"Bearer {fake}", "Basic dXNlcjpwYXNz", "Bearer not-a-key"):
        res = app.get(
            "/api/v1/products", headers={"Host": shop.host, "Authorization": header}, status=401
        )
        assert error_of(res)["code"] == "unauthorized"
        assert "TEA-1" not in res.text


def test_a_key_of_store_a_is_refused_on_store_b(app, make_shop):
    a, b = make_shop(), make_shop()
    key_a = f"Bearer {a.keys['rw']}"
    res = app.get("/api/v1/products", headers={"Host": b.host, "Authorization": key_a}, status=403)
    assert error_of(res)["code"] == "forbidden"
    res = app.get(f"/s/{b.slug}/api/v1/products", headers={"Authorization": key_a}, status=403)
    assert error_of(res)["code"] == "forbidden"
    res = app.post_json(
        "/api/v1/orders", order_body(), headers={"Host": b.host, "Authorization": key_a}, status=403
    )
    # Nothing was ordered in either store.
    for shop in (a, b):
        assert app.get("/api/v1/orders", headers=shop.headers()).json["data"] == []


def test_the_key_alone_selects_its_store(app, make_shop):
    a, b = (
        make_shop(),
        make_shop(
            products=[
                {"sku": "B-ONLY", "name": "b", "price_minor": 1, "stock": 1, "is_active": True}
            ]
        ),
    )
    res = app.get("/api/v1/products", headers={"Authorization": f"Bearer {b.keys['read']}"})
    assert [p["sku"] for p in res.json["data"]] == ["B-ONLY"]
    res = app.get(f"/s/{a.slug}/api/v1/products/TEA-1", headers=a.headers("read"))
    assert res.json["sku"] == "TEA-1"


def revoke(control, shop, key_name: str, *, control_side: bool = True) -> None:
    prefix = shop.keys[key_name][: len("bo_live_") + 8]
    engine = store_engine(control, shop.tenant)
    with control.session() as control_session, Session(engine) as db:
        record = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        service = ApiKeyService(control_session, db, shop.tenant.id)
        if control_side:
            service.revoke(record)
        else:
            record.revoked_at = record.created_at
        db.commit()
        control_session.commit()
    engine.dispose()


def test_a_revoked_key_is_refused_at_once(app, control, shop):
    app.get("/api/v1/products", headers=shop.headers("read"))  # cached by the directory now
    revoke(control, shop, "read", control_side=False)
    res = app.get("/api/v1/products", headers=shop.headers("read"), status=401)
    assert "revoked" in error_of(res)["message"]
    revoke(control, shop, "rw")
    fresh = TestApp(make_app(app.app.registry.settings, control=control))
    error_of(fresh.get("/api/v1/products", headers=shop.headers("rw"), status=401))
    app.get("/api/v1/products", headers=shop.headers("write"), status=403)  # other keys live


def test_scopes_are_enforced(app, shop):
    res = app.post_json("/api/v1/orders", order_body(), headers=shop.headers("read"), status=403)
    assert error_of(res)["code"] == "insufficient_scope"
    assert error_of(res)["details"]["required_scope"] == "write"
    for path in ("/api/v1/products", "/api/v1/orders", "/api/v1/customers"):
        res = app.get(path, headers=shop.headers("write"), status=403)
        assert error_of(res)["code"] == "insufficient_scope"
    created = app.post_json(
        "/api/v1/orders", order_body(), headers=shop.headers("write"), status=201
    ).json
    app.post_json(
        f"/api/v1/orders/{created['id']}/notes",
        {"message": "hi"},
        headers=shop.headers("read"),
        status=403,
    )
    app.post_json(
        f"/api/v1/orders/{created['id']}/status",
        {"status": "confirmed"},
        headers=shop.headers("read"),
        status=403,
    )


def test_rate_limit_per_key(api_settings, control, shop):
    app = TestApp(
        make_app(
            {**api_settings, "backoffice.api_rate_limit": "6", "backoffice.api_rate_burst": "3"},
            control=control,
        )
    )
    seen = [app.get("/api/v1/products", headers=shop.headers("read")) for _ in range(3)]
    assert [r.headers["RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
    assert all(r.headers["RateLimit-Limit"] == "3" for r in seen)
    res = app.get("/api/v1/products", headers=shop.headers("read"), status=429)
    assert error_of(res)["code"] == "rate_limited"
    # 3 requests per 30-second moving window (burst 3 at 6 a minute).
    assert 1 <= int(res.headers["Retry-After"]) <= 30
    assert res.headers["RateLimit-Remaining"] == "0"
    # Another key of the same store has its own bucket.
    app.get("/api/v1/products", headers=shop.headers("rw"), status=200)
