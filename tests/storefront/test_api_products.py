"""Products written through the API: the back office's rules, scopes, stores apart,
archiving, and stock set or adjusted under concurrency."""

from __future__ import annotations

from sqlalchemy import func, select

from backoffice.models import AuditEntry, Product
from tests.storefront.api_helpers import at_once, audit_actions, error, scalar
from tests.storefront.conftest import order_body

NEW = {"sku": "TEA-9", "name": "Oolong", "price_minor": 1400, "stock": 12}


def stock(control, shop, sku: str) -> int:
    return scalar(control, shop, select(Product.stock).where(Product.sku == sku))


def fields(res) -> dict:
    return {f["field"]: f["message"] for f in error(res)["details"]["fields"]}


def test_create_a_product(app, control, shop):
    res = app.post_json("/api/v1/products", NEW, headers=shop.headers(), status=201)
    product = res.json
    assert product["sku"] == "TEA-9" and product["price_minor"] == 1400
    assert product["stock"] == 12 and product["active"] is True
    assert product["currency"] == "EUR" and product["description"] == ""
    assert res.headers["Location"].endswith("/api/v1/products/TEA-9")
    again = app.get("/api/v1/products/TEA-9", headers=shop.headers("read")).json
    assert again == product
    key_prefix = shop.keys["rw"].split("_")[2]
    assert audit_actions(control, shop) == [("product.create", f"api:bo_live_{key_prefix}")]


def test_the_back_offices_rules_apply(app, control, shop):
    h = shop.headers()
    res = app.post_json("/api/v1/products", {**NEW, "name": "   "}, headers=h, status=422)
    assert error(res)["code"] == "validation_failed"
    assert fields(res) == {"name": "This field is required."}
    res = app.post_json(
        "/api/v1/products", {**NEW, "price_minor": 10**11 + 1}, headers=h, status=422
    )
    assert fields(res) == {"price_minor": "The price is too large."}
    # 10^9 euros is the most, as in the back office's form.
    app.post_json("/api/v1/products", {**NEW, "price_minor": 10**11}, headers=h, status=201)
    res = app.post_json("/api/v1/products", {**NEW, "sku": "a b"}, headers=h, status=422)
    assert list(fields(res)) == ["sku"]
    res = app.post_json("/api/v1/products", {**NEW, "stock": -1}, headers=h, status=422)
    assert list(fields(res)) == ["stock"]
    res = app.post_json("/api/v1/products", {"sku": "X-1"}, headers=h, status=422)
    assert {"(body)"} == set(fields(res))
    assert scalar(control, shop, select(func.count()).select_from(Product)) == 4


def test_a_taken_sku_is_a_conflict(app, control, shop):
    h = shop.headers()
    res = app.post_json("/api/v1/products", {**NEW, "sku": "TEA-1"}, headers=h, status=409)
    assert error(res)["code"] == "duplicate_sku"
    assert error(res)["details"]["sku"] == "TEA-1"
    assert fields(res) == {"sku": "Another product already has this SKU."}
    res = app.patch_json("/api/v1/products/TEA-2", {"sku": "TEA-1"}, headers=h, status=409)
    assert error(res)["code"] == "duplicate_sku"
    assert app.get("/api/v1/products/TEA-2", headers=h).json["sku"] == "TEA-2"


def test_writes_need_the_write_scope(app, control, shop):
    r = shop.headers("read")
    for method, url, body in (
        ("post", "/api/v1/products", NEW),
        ("patch", "/api/v1/products/TEA-1", {"price_minor": 1}),
        ("post", "/api/v1/products/TEA-1/stock", {"adjust": -1}),
        ("post", "/api/v1/products/TEA-1/archive", {}),
    ):
        res = getattr(app, f"{method}_json")(url, body, headers=r, status=403)
        assert error(res)["code"] == "insufficient_scope"
    product = app.get("/api/v1/products/TEA-1", headers=r).json
    assert (product["price_minor"], product["stock"], product["active"]) == (1250, 10, True)
    assert scalar(control, shop, select(func.count()).select_from(AuditEntry)) == 0


def test_update_price_and_set_stock(app, control, shop):
    h = shop.headers()
    res = app.patch_json(
        "/api/v1/products/TEA-1", {"price_minor": 1300, "stock": 4}, headers=h, status=200
    )
    assert (res.json["price_minor"], res.json["stock"], res.json["name"]) == (1300, 4, "Green tea")
    before = scalar(
        control, shop, select(AuditEntry.before).where(AuditEntry.action == "product.update")
    )
    assert before == {"price_minor": 1250, "stock": 10}
    res = app.post_json("/api/v1/products/TEA-1/stock", {"set": 9}, headers=h, status=200)
    assert res.json["stock"] == 9 == stock(control, shop, "TEA-1")
    res = app.patch_json("/api/v1/products/TEA-1", {}, headers=h, status=422)
    assert error(res)["code"] == "validation_failed"
    res = app.patch_json("/api/v1/products/TEA-1", {"name": "x" * 201}, headers=h, status=422)
    assert list(fields(res)) == ["name"]


def test_another_stores_products_are_not_found(app, control, make_shop):
    a, b = make_shop(), make_shop()
    app.post_json("/api/v1/products", NEW, headers=a.headers(), status=201)
    hb = b.headers()
    for method, url, body in (
        ("patch", "/api/v1/products/TEA-9", {"price_minor": 1}),
        ("post", "/api/v1/products/TEA-9/stock", {"adjust": 1}),
        ("post", "/api/v1/products/TEA-9/archive", {}),
    ):
        res = getattr(app, f"{method}_json")(url, body, headers=hb, status=404)
        assert error(res)["code"] == "not_found"
    assert stock(control, a, "TEA-9") == 12


def test_an_archived_product_cannot_be_ordered(app, control, shop):
    h = shop.headers()
    res = app.post_json("/api/v1/products/TEA-1/archive", {}, headers=h, status=200)
    assert res.json["active"] is False
    res = app.post_json("/api/v1/orders", order_body(), headers=h, status=422)
    assert error(res)["details"] == {"skus": ["TEA-1"]}
    cart = {"lines": [{"sku": "TEA-1", "quantity": 1}]}
    assert error(app.post_json("/api/v1/carts", cart, headers=h, status=422))["details"] == {
        "skus": ["TEA-1"]
    }
    listed = app.get("/api/v1/products", {"active": "false"}, headers=h).json["data"]
    assert {p["sku"] for p in listed} == {"TEA-1", "OLD-1"}
    # Archiving twice changes nothing; making it active again is an update.
    app.post_json("/api/v1/products/TEA-1/archive", {}, headers=h, status=200)
    assert app.patch_json("/api/v1/products/TEA-1", {"active": True}, headers=h).json["active"]
    app.post_json("/api/v1/orders", order_body(), headers=h, status=201)


def test_adjust_stock(app, control, shop):
    h = shop.headers()
    url = "/api/v1/products/TEA-1/stock"
    assert app.post_json(url, {"adjust": 5}, headers=h).json["stock"] == 15
    assert app.post_json(url, {"adjust": -3}, headers=h).json["stock"] == 12
    res = app.post_json(url, {"adjust": -13}, headers=h, status=409)
    assert error(res)["code"] == "out_of_stock"
    assert error(res)["details"] == {"available": {"TEA-1": 12}, "adjust": -13}
    res = app.post_json(url, {"adjust": 10**9}, headers=h, status=422)
    assert fields(res) == {"adjust": "The stock is too large."}
    res = app.post_json(url, {"adjust": 1, "set": 3}, headers=h, status=422)
    assert error(res)["code"] == "validation_failed"
    res = app.post_json(url, {"adjust": 1.5}, headers=h, status=422)
    assert error(res)["code"] == "validation_failed"
    assert stock(control, shop, "TEA-1") == 12
    assert [a for a, _actor in audit_actions(control, shop)] == ["product.stock"] * 2


def test_concurrent_adjustments_never_oversell(app, control, shop):
    results = at_once(
        app, "POST", "/api/v1/products/TEA-1/stock", [{"adjust": -1}] * 20, shop.headers()
    )
    statuses = sorted(r.status_int for r in results)
    assert statuses == [200] * 10 + [409] * 10
    assert sorted(r.json["stock"] for r in results if r.status_int == 200) == list(range(10))
    assert {error(r)["code"] for r in results if r.status_int == 409} == {"out_of_stock"}
    assert stock(control, shop, "TEA-1") == 0
