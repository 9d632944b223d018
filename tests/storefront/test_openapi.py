"""The OpenAPI document is valid 3.1 and real responses match it, for every operation."""

from __future__ import annotations

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from pyramid.interfaces import IRoutesMapper
from webtest import TestApp

from backoffice.config import make_app
from storefront.api.openapi import document
from tests.storefront.conftest import order_body, record_paid


class Contract:
    """Calls the app and checks each response against the documented one."""

    def __init__(self, app, doc: dict):
        self.app = app
        self.doc = doc
        self.seen: set[tuple[str, str]] = set()
        self.operations = {
            op["operationId"]: (path, method, op)
            for path, item in doc["paths"].items()
            for method, op in item.items()
        }

    def call(self, op_id: str, url: str, status: int, *, body=None, headers=None, params=None):
        _path, method, operation = self.operations[op_id]
        if method in ("get", "delete"):
            call = getattr(self.app, method)
            res = call(url, params or {}, headers=headers, status=status)
        else:
            call = getattr(self.app, f"{method}_json")
            res = call(url, body, headers=headers, status=status)
        self.check(operation, str(status), res)
        self.seen.add((op_id, str(status)))
        return res

    def check(self, operation: dict, status: str, res) -> None:
        assert status in operation["responses"], f"{operation['operationId']} {status} undocumented"
        response = operation["responses"][status]
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        for header in response.get("headers", {}):
            assert header in res.headers, f"{header} missing on {operation['operationId']}"
        if "content" not in response:
            assert res.body == b"", f"{operation['operationId']} {status} has a body"
            return
        assert res.content_type == "application/json"
        schema = {
            **response["content"]["application/json"]["schema"],
            "components": self.doc["components"],
        }
        OAS31Validator(schema).validate(res.json)


@pytest.fixture
def contract(app):
    return Contract(app, app.get("/api/v1/openapi.json").json)


def test_the_document_is_valid_openapi_31():
    doc = document("http://shop.example/")
    validate_spec(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_api_route_is_documented(app):
    mapper = app.app.registry.getUtility(IRoutesMapper)
    routes = {
        r.pattern.replace("{id:\\d{1,18}}", "{id}")
        for r in mapper.get_routes()
        if r.pattern.startswith("/api/v1/") and r.name != "api.openapi"
    }
    assert routes == set(document()["paths"])


def test_real_responses_match_the_document(contract, shop):
    c, h, r = contract, shop.headers(), shop.headers("read")
    c.call("listProducts", "/api/v1/products", 200, headers=r, params={"limit": "2"})
    c.call("listProducts", "/api/v1/products", 400, headers=r, params={"limit": "0"})
    c.call("listProducts", "/api/v1/products", 401, headers={"Host": shop.host})
    c.call("listProducts", "/api/v1/products", 403, headers=shop.headers("write"))
    c.call("getProduct", "/api/v1/products/TEA-1", 200, headers=r)
    c.call("getProduct", "/api/v1/products/NOPE", 404, headers=r)
    order = c.call("createOrder", "/api/v1/orders", 201, body=order_body(), headers=h).json
    c.call(
        "createOrder",
        "/api/v1/orders",
        409,
        headers=h,
        body=order_body(lines=[{"sku": "TEA-2", "quantity": 5}]),
    )
    c.call("createOrder", "/api/v1/orders", 422, headers=h, body={"lines": []})
    c.call(
        "createOrder",
        "/api/v1/orders",
        400,
        headers={**h, "Idempotency-Key": " "},
        body=order_body(),
    )
    c.call("listOrders", "/api/v1/orders", 200, headers=r, params={"status": "new"})
    c.call("listOrders", "/api/v1/orders", 400, headers=r, params={"cursor": "!"})
    oid = order["id"]
    c.call("getOrder", f"/api/v1/orders/{oid}", 200, headers=r)
    c.call("getOrder", "/api/v1/orders/424242", 404, headers=r)
    c.call(
        "changeOrderStatus",
        f"/api/v1/orders/{oid}/status",
        200,
        headers=h,
        body={"status": "confirmed"},
    )
    c.call(
        "changeOrderStatus", f"/api/v1/orders/{oid}/status", 422, headers=h, body={"status": "new"}
    )
    c.call(
        "changeOrderStatus", "/api/v1/orders/424242/status", 404, headers=h, body={"status": "paid"}
    )
    c.call("addOrderNote", f"/api/v1/orders/{oid}/notes", 201, headers=h, body={"message": "x"})
    c.call("addOrderNote", f"/api/v1/orders/{oid}/notes", 422, headers=h, body={})
    c.call("createRefund", f"/api/v1/orders/{oid}/refunds", 409, headers=h, body={})
    record_paid(shop, oid)
    refund = {"amount_minor": 100, "method": "recorded", "reason": "returned"}
    c.call("createRefund", f"/api/v1/orders/{oid}/refunds", 201, headers=h, body=refund)
    too_much = {**refund, "amount_minor": 10**9}
    c.call("createRefund", f"/api/v1/orders/{oid}/refunds", 422, headers=h, body=too_much)
    c.call("createRefund", "/api/v1/orders/424242/refunds", 404, headers=h, body=refund)
    c.call("createRefund", f"/api/v1/orders/{oid}/refunds", 400, headers=h)
    c.call("listRefunds", f"/api/v1/orders/{oid}/refunds", 200, headers=r)
    c.call("listRefunds", "/api/v1/orders/424242/refunds", 404, headers=r)
    c.call("listCustomers", "/api/v1/customers", 200, headers=r)
    c.call("getCustomer", f"/api/v1/customers/{order['customer']['id']}", 200, headers=r)
    c.call("getCustomer", "/api/v1/customers/424242", 404, headers=r)
    c.call("getOrderStatus", f"/api/v1/order-status/{order['status_token']}", 200, headers=r)
    c.call("getOrderStatus", "/api/v1/order-status/nope", 404, headers=r)
    c.call(
        "createCart",
        "/api/v1/carts",
        201,
        headers=h,
        body={"lines": [{"sku": "TEA-1", "quantity": 1}], "locale": "ru"},
    )
    c.call(
        "createCart",
        "/api/v1/carts",
        422,
        headers=h,
        body={"lines": [{"sku": "OLD-1", "quantity": 1}]},
    )
    writes(c, shop)
    assert {op for op, _status in c.seen} == set(c.operations)


def writes(c: Contract, shop) -> None:
    """Products, customers and webhooks written through the API."""
    h, r = shop.headers(), shop.headers("read")
    product = {"sku": "NEW-1", "name": "New tea", "price_minor": 900, "stock": 3}
    c.call("createProduct", "/api/v1/products", 201, headers=h, body=product)
    c.call("createProduct", "/api/v1/products", 409, headers=h, body=product)
    c.call("createProduct", "/api/v1/products", 422, headers=h, body={**product, "sku": "a b"})
    c.call("createProduct", "/api/v1/products", 403, headers=r, body=product)
    c.call("updateProduct", "/api/v1/products/NEW-1", 200, headers=h, body={"price_minor": 950})
    c.call("updateProduct", "/api/v1/products/NEW-1", 409, headers=h, body={"sku": "TEA-1"})
    c.call("updateProduct", "/api/v1/products/NEW-1", 422, headers=h, body={"stock": -1})
    c.call("updateProduct", "/api/v1/products/NOPE", 404, headers=h, body={"stock": 1})
    c.call("changeStock", "/api/v1/products/NEW-1/stock", 200, headers=h, body={"adjust": -1})
    c.call("changeStock", "/api/v1/products/NEW-1/stock", 409, headers=h, body={"adjust": -9})
    c.call("changeStock", "/api/v1/products/NEW-1/stock", 422, headers=h, body={})
    c.call("changeStock", "/api/v1/products/NOPE/stock", 404, headers=h, body={"set": 1})
    c.call("archiveProduct", "/api/v1/products/NEW-1/archive", 200, headers=h)
    c.call("archiveProduct", "/api/v1/products/NOPE/archive", 404, headers=h)
    c.call(
        "listProducts", "/api/v1/products", 200, headers=r, params={"updated_after": "2026-01-01"}
    )
    c.call("listProducts", "/api/v1/products", 400, headers=r, params={"updated_after": "x"})
    customer = {"email": "zoe@example.com", "name": "Zoe"}
    created = c.call("createCustomer", "/api/v1/customers", 201, headers=h, body=customer).json
    c.call("createCustomer", "/api/v1/customers", 409, headers=h, body=customer)
    c.call("createCustomer", "/api/v1/customers", 422, headers=h, body={"email": "zoe@x"})
    url = f"/api/v1/customers/{created['id']}"
    c.call("updateCustomer", url, 200, headers=h, body={"phone": "+1 555"})
    c.call("updateCustomer", url, 422, headers=h, body={"email": ""})
    c.call("updateCustomer", "/api/v1/customers/424242", 404, headers=h, body={"name": "x"})
    hook = {"url": "https://hooks.example.com/a", "events": ["order.created"]}
    made = c.call("createWebhook", "/api/v1/webhooks", 201, headers=h, body=hook).json
    c.call("createWebhook", "/api/v1/webhooks", 422, headers=h, body={**hook, "url": "ftp://x"})
    c.call("listWebhooks", "/api/v1/webhooks", 200, headers=r)
    c.call("listWebhooks", "/api/v1/webhooks", 400, headers=r, params={"limit": "0"})
    url = f"/api/v1/webhooks/{made['webhook']['id']}"
    c.call("getWebhook", url, 200, headers=r)
    c.call("disableWebhook", f"{url}/disable", 200, headers=h)
    c.call("deleteWebhook", url, 204, headers=h)
    c.call("getWebhook", url, 404, headers=r)
    c.call("disableWebhook", f"{url}/disable", 404, headers=h)
    c.call("deleteWebhook", url, 404, headers=h)


def test_rate_limited_response_matches(api_settings, control, shop):
    app = TestApp(
        make_app(
            {**api_settings, "backoffice.api_rate_limit": "1", "backoffice.api_rate_burst": "1"},
            control=control,
        )
    )
    c = Contract(app, document())
    c.call("listProducts", "/api/v1/products", 200, headers=shop.headers("read"))
    res = c.call("listProducts", "/api/v1/products", 429, headers=shop.headers("read"))
    assert int(res.headers["Retry-After"]) >= 1
