"""Customers written through the API: one e-mail address, one customer (lower-case),
the back office's rules, scopes, stores apart."""

from __future__ import annotations

from sqlalchemy import func, select

from backoffice.customers import services
from backoffice.models import Customer
from tests.storefront.api_helpers import at_once, error, scalar
from tests.storefront.conftest import order_body

ANN = {"email": " Ann@Example.com ", "name": "Ann", "phone": "+1 555"}


def customers(control, shop) -> int:
    return scalar(control, shop, select(func.count()).select_from(Customer))


def fields(res) -> dict:
    return {f["field"]: f["message"] for f in error(res)["details"]["fields"]}


def test_create_and_update_a_customer(app, control, shop):
    h = shop.headers()
    res = app.post_json("/api/v1/customers", ANN, headers=h, status=201)
    customer = res.json
    assert customer["email"] == "ann@example.com" and customer["name"] == "Ann"
    assert res.headers["Location"].endswith(f"/api/v1/customers/{customer['id']}")
    url = f"/api/v1/customers/{customer['id']}"
    changed = app.patch_json(url, {"phone": "+1 556", "name": " Ann B "}, headers=h).json
    assert (changed["phone"], changed["name"], changed["email"]) == (
        "+1 556",
        "Ann B",
        ANN["email"].strip().lower(),
    )
    assert app.get(url, headers=shop.headers("read")).json == changed
    # An order by the same address (in any case) is this customer's.
    order = app.post_json(
        "/api/v1/orders",
        order_body(customer={"email": "ANN@example.com"}),
        headers=h,
        status=201,
    ).json
    assert order["customer"]["id"] == customer["id"]


def test_the_email_is_unique_whatever_its_case(app, control, shop):
    h = shop.headers()
    first = app.post_json("/api/v1/customers", ANN, headers=h, status=201).json
    res = app.post_json("/api/v1/customers", {"email": "ANN@EXAMPLE.COM"}, headers=h, status=409)
    assert error(res)["code"] == "duplicate_email"
    assert fields(res) == {"email": "Another customer already has this e-mail address."}
    other = app.post_json("/api/v1/customers", {"email": "bob@example.com"}, headers=h).json
    res = app.patch_json(
        f"/api/v1/customers/{other['id']}", {"email": "Ann@example.com"}, headers=h, status=409
    )
    assert error(res)["code"] == "duplicate_email"
    # Its own address, in another case, is no conflict.
    app.patch_json(f"/api/v1/customers/{first['id']}", {"email": "ANN@example.com"}, headers=h)
    assert customers(control, shop) == 2


def test_the_back_offices_rules_apply(app, control, shop):
    h = shop.headers()
    # The document's pattern is the back office's check, so these stop at the schema.
    for email in ("ann@localhost", "   ", "a b@example.com"):
        res = app.post_json("/api/v1/customers", {"email": email}, headers=h, status=422)
        assert list(fields(res)) == ["email"], email
    res = app.post_json(
        "/api/v1/customers", {"email": "a@b.co", "phone": "1" * 41}, headers=h, status=422
    )
    assert list(fields(res)) == ["phone"]
    res = app.post_json(
        "/api/v1/customers", {"email": "a@b.co", "vip": True}, headers=h, status=422
    )
    assert error(res)["code"] == "validation_failed"
    assert customers(control, shop) == 0
    assert services.customer_errors({"email": "ann@example.com"}) == {}
    assert services.customer_errors({"email": "ann@localhost"}) == {
        "email": "Enter a valid e-mail address."
    }
    assert services.customer_errors({"email": ""}) == {"email": "This field is required."}


def test_writes_need_the_write_scope_and_stay_in_their_store(app, control, make_shop):
    a, b = make_shop(), make_shop()
    res = app.post_json("/api/v1/customers", ANN, headers=a.headers("read"), status=403)
    assert error(res)["code"] == "insufficient_scope"
    cid = app.post_json("/api/v1/customers", ANN, headers=a.headers(), status=201).json["id"]
    res = app.patch_json(
        f"/api/v1/customers/{cid}", {"name": "Eve"}, headers=a.headers("read"), status=403
    )
    assert error(res)["code"] == "insufficient_scope"
    res = app.patch_json(
        f"/api/v1/customers/{cid}", {"name": "Eve"}, headers=b.headers(), status=404
    )
    assert error(res)["code"] == "not_found"
    assert app.get(f"/api/v1/customers/{cid}", headers=a.headers()).json["name"] == "Ann"
    assert customers(control, b) == 0


def test_concurrent_creates_of_one_address_make_one_customer(app, control, shop):
    results = at_once(app, "POST", "/api/v1/customers", [ANN] * 5, shop.headers())
    statuses = sorted(r.status_int for r in results)
    assert statuses == [201] + [409] * 4, [r.text for r in results]
    assert customers(control, shop) == 1
