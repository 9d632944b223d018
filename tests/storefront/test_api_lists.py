"""Every list takes updated_after; an empty cursor is the first page; a method a route
does not answer is 405 with Allow, in the API's error format."""

from __future__ import annotations

from datetime import datetime

import pytest
from pyramid.interfaces import IRoutesMapper
from sqlalchemy import update

from backoffice.models import Customer, Order, Product, WebhookEndpoint
from tests.storefront.api_helpers import error, execute
from tests.storefront.conftest import order_body

LISTS = {
    "/api/v1/products": Product,
    "/api/v1/orders": Order,
    "/api/v1/customers": Customer,
    "/api/v1/webhooks": WebhookEndpoint,
}
OLD, NEW = datetime(2026, 1, 1, 9, 0, 0), datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture
def two_of_each(app, control, shop):
    """Two rows in every list: the lower id changed at 09:00 UTC, the other at 12:00."""
    h = shop.headers()
    for email in ("ann@example.com", "bob@example.com"):
        app.post_json("/api/v1/orders", order_body(customer={"email": email}), headers=h)
    for n in (1, 2):
        app.post_json(
            "/api/v1/webhooks",
            {"url": f"https://hooks.example.com/{n}", "events": ["order.created"]},
            headers=h,
        )
    for model in LISTS.values():
        execute(control, shop, update(model).values(updated_at=NEW))
        execute(
            control,
            shop,
            update(model).where(model.id == 1).values(updated_at=OLD),
        )
    # products: TEA-1 is id 1; OLD-1 and TEA-2 changed at 12:00 too.
    return shop


SINCE = [
    ("2026-01-01T12:00:00Z", "new"),  # inclusive
    ("2026-01-01T12:00:01", "none"),  # no offset: UTC
    ("2026-01-01T13:00:00+02:00", "new"),  # 11:00 UTC
    ("2026-01-01T10:00:00+02:00", "all"),  # 08:00 UTC
    ("2026-01-01T10:00:00.5+00:00", "new"),
    ("2026-01-01", "all"),
]
BAD = ["yesterday", "2026-13-01T00:00:00", "", "0001-01-01T00:00:00+01:00", "12:00"]


@pytest.mark.parametrize("path", list(LISTS))
def test_updated_after(app, two_of_each, path):
    for since, expected in SINCE:
        res = app.get(path, {"updated_after": since}, headers=two_of_each.headers("read"))
        got = {row["id"]: row["updated_at"] for row in res.json["data"]}
        if expected == "none":
            assert got == {}, since
            continue
        assert (1 in got) == (expected == "all"), since
        assert {at for id_, at in got.items() if id_ != 1} == {"2026-01-01T12:00:00Z"}, since


def test_a_bad_updated_after_is_a_clear_400(app, shop):
    for path in LISTS:
        for bad in BAD:
            res = app.get(path, {"updated_after": bad}, headers=shop.headers("read"), status=400)
            assert error(res)["code"] == "bad_request"
            assert error(res)["details"]["parameter"] == "updated_after"
            assert "updated_after must be an ISO 8601 date-time" in error(res)["message"]


@pytest.mark.parametrize("path", list(LISTS))
def test_an_empty_cursor_is_the_first_page(app, two_of_each, path):
    r = two_of_each.headers("read")
    first = app.get(path, {"limit": "1"}, headers=r).json
    assert app.get(path, {"limit": "1", "cursor": ""}, headers=r).json == first
    assert first["next_cursor"]


def api_routes(app) -> dict[str, str]:
    mapper = app.app.registry.getUtility(IRoutesMapper)
    samples = {"{id:\\d{1,18}}": "1", "{sku}": "TEA-1", "{token}": "abc"}
    routes = {}
    for route in mapper.get_routes():
        if route.pattern.startswith("/api/v1/"):
            url = route.pattern
            for placeholder, value in samples.items():
                url = url.replace(placeholder, value)
            routes[route.name] = url
    return routes


def test_a_wrong_method_is_405_on_every_route(app, shop):
    openapi = app.get("/api/v1/openapi.json").json["paths"]
    routes = api_routes(app)
    assert len(routes) >= 16
    for name, url in routes.items():
        documented = {
            m.upper()
            for path, item in openapi.items()
            for m in item
            if path.replace("{id}", "1").replace("{sku}", "TEA-1").replace("{token}", "abc") == url
        } or {"GET"}
        allowed = documented | ({"HEAD"} if "GET" in documented else set())
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed:
            res = app.request(url, method=method, headers=shop.headers(), expect_errors=True)
            assert res.status_int == 405, (name, method, res.status)
            assert res.content_type == "application/json"
            assert error(res)["code"] == "method_not_allowed"
            assert set(res.headers["Allow"].split(", ")) == allowed, name
            assert set(error(res)["details"]["allowed"]) == allowed


def test_405_needs_no_key_and_changes_nothing(app, shop):
    res = app.request(
        "/api/v1/products/TEA-1", method="DELETE", headers={"Host": shop.host}, expect_errors=True
    )
    assert res.status_int == 405 and "PATCH" in res.headers["Allow"]
    assert app.get("/api/v1/products/TEA-1", headers=shop.headers()).json["active"] is True
    res = app.request(f"/s/{shop.slug}/api/v1/carts", method="GET", expect_errors=True)
    assert res.status_int == 405 and res.headers["Allow"] == "POST"
    res = app.request("/api/v1/nope", method="PUT", headers=shop.headers(), expect_errors=True)
    assert res.status_int == 404 and error(res)["code"] == "not_found"
    # Pages outside the API keep their own answer to a wrong method.
    res = app.post(f"/s/{shop.slug}/checkout/order/abc", status=404)
    assert res.content_type == "text/html" and "Allow" not in res.headers
