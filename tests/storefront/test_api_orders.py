"""Orders through the API: prices and stock from the store, errors, idempotency, flow."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from webtest import TestApp

from backoffice.models import IdempotencyRecord, Order, OrderEvent, Product
from tests.storefront.conftest import order_body, store_engine


def count(control, shop, statement):
    engine = store_engine(control, shop.tenant)
    with engine.connect() as conn:
        value = conn.scalar(statement)
    engine.dispose()
    return value


def stock(control, shop, sku: str) -> int:
    return count(control, shop, select(Product.stock).where(Product.sku == sku))


def orders(control, shop) -> int:
    return count(control, shop, select(func.count()).select_from(Order))


def err(res) -> dict:
    return res.json["error"]


def test_create_prices_from_the_store_and_decrements_stock(app, control, shop):
    body = order_body(lines=[{"sku": "TEA-1", "quantity": 3}, {"sku": "TEA-2", "quantity": 1}])
    res = app.post_json("/api/v1/orders", body, headers=shop.headers(), status=201)
    order = res.json
    assert order["number"] == f"API-{order['id']:05d}"
    assert order["total_minor"] == order["subtotal_minor"] == 3 * 1250 + 800
    assert order["currency"] == "EUR" and order["status"] == "new" and order["source"] == "api"
    assert [(x["sku"], x["unit_price_minor"], x["total_minor"]) for x in order["lines"]] == [
        ("TEA-1", 1250, 3750),
        ("TEA-2", 800, 800),
    ]
    assert order["customer"]["email"] == "ann@example.com" and order["customer"]["id"]
    assert res.headers["Location"].endswith(f"/api/v1/orders/{order['id']}")
    assert stock(control, shop, "TEA-1") == 7 and stock(control, shop, "TEA-2") == 0
    assert (
        count(control, shop, select(OrderEvent.kind).where(OrderEvent.order_id == order["id"]))
        == "created"
    )


def test_a_price_sent_by_the_client_is_refused(app, control, shop):
    body = order_body(lines=[{"sku": "TEA-1", "quantity": 1, "unit_price_minor": 1}])
    res = app.post_json("/api/v1/orders", body, headers=shop.headers(), status=422)
    assert err(res)["code"] == "validation_failed"
    assert err(res)["details"]["fields"][0]["field"] == "lines/0"
    assert orders(control, shop) == 0


def test_create_errors(app, control, shop):
    h = shop.headers()
    post = app.post_json
    assert err(
        post(
            "/api/v1/orders",
            order_body(lines=[{"sku": "NOPE", "quantity": 1}]),
            headers=h,
            status=422,
        )
    )["details"] == {"skus": ["NOPE"]}
    assert err(
        post(
            "/api/v1/orders",
            order_body(lines=[{"sku": "OLD-1", "quantity": 1}]),
            headers=h,
            status=422,
        )
    )["details"] == {"skus": ["OLD-1"]}
    dup = [{"sku": "TEA-1", "quantity": 1}, {"sku": "TEA-1", "quantity": 1}]
    assert err(post("/api/v1/orders", order_body(lines=dup), headers=h, status=422))["details"] == {
        "duplicate_skus": ["TEA-1"]
    }
    res = post(
        "/api/v1/orders", order_body(lines=[{"sku": "TEA-2", "quantity": 2}]), headers=h, status=409
    )
    assert err(res) == {
        "code": "out_of_stock",
        "message": "not enough stock",
        "details": {"available": {"TEA-2": 1}},
    }
    for bad in (
        order_body(lines=[]),
        order_body(customer={"name": "x"}),
        order_body(locale="fr"),
        {"lines": "x"},
        order_body(external_reference="a b"),
    ):
        assert err(post("/api/v1/orders", bad, headers=h, status=422))["code"] == (
            "validation_failed"
        )
    for raw in (b"{not json", b"[1, 2]", b"", b'"text"'):
        res = app.post(
            "/api/v1/orders", raw, headers={**h, "Content-Type": "application/json"}, status=400
        )
        assert err(res)["code"] == "bad_request"
    res = post(
        "/api/v1/orders", order_body(), headers={**h, "Idempotency-Key": "x" * 201}, status=400
    )
    assert err(res)["details"] == {"header": "Idempotency-Key"}
    assert orders(control, shop) == 0
    assert stock(control, shop, "TEA-1") == 10 and stock(control, shop, "TEA-2") == 1


def test_idempotency_key_replays_or_refuses(app, control, shop):
    h = shop.headers(**{"Idempotency-Key": "order-123"})
    first = app.post_json("/api/v1/orders", order_body(), headers=h, status=201)
    # Same body, other key order and spacing: the same response, byte for byte.
    again = app.post(
        "/api/v1/orders",
        b'{"locale":"en","shipping_address":"1 Main St",'
        b'"customer":{"phone":"+1 555","name":"Ann","email":"Ann@Example.com"},'
        b'"lines":[{"quantity":2,"sku":"TEA-1"}]}',
        headers={**h, "Content-Type": "application/json"},
        status=201,
    )
    assert again.body == first.body and again.headers["Idempotent-Replayed"] == "true"
    res = app.post_json(
        "/api/v1/orders", order_body(shipping_address="elsewhere"), headers=h, status=422
    )
    assert err(res)["code"] == "idempotency_key_reused"
    assert orders(control, shop) == 1 and stock(control, shop, "TEA-1") == 8
    # The key belongs to the API key that used it: another key starts afresh.
    app.post_json(
        "/api/v1/orders",
        order_body(),
        headers=shop.headers("write", **{"Idempotency-Key": "order-123"}),
        status=201,
    )
    assert orders(control, shop) == 2


def test_a_failed_request_does_not_burn_its_idempotency_key(app, control, shop):
    h = shop.headers(**{"Idempotency-Key": "retry-me"})
    body = order_body(lines=[{"sku": "TEA-2", "quantity": 2}])
    app.post_json("/api/v1/orders", body, headers=h, status=409)
    assert count(control, shop, select(func.count()).select_from(IdempotencyRecord)) == 0
    app.post_json("/api/v1/orders", order_body(), headers=h, status=201)


def test_external_reference_is_unique_per_store(app, control, make_shop):
    shop, other = make_shop(), make_shop()
    body = order_body(external_reference="WEB-1001")
    first = app.post_json("/api/v1/orders", body, headers=shop.headers(), status=201)
    again = app.post_json("/api/v1/orders", body, headers=shop.headers(), status=201)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    res = app.post_json(
        "/api/v1/orders",
        order_body(external_reference="WEB-1001", shipping_address="other"),
        headers=shop.headers(),
        status=409,
    )
    assert err(res)["code"] == "duplicate_external_reference"
    assert orders(control, shop) == 1
    # Another store may use the same reference.
    app.post_json("/api/v1/orders", body, headers=other.headers(), status=201)


def concurrently(app, requests) -> list:
    """Run the requests at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(i, body, headers):
        client = TestApp(app.app)
        barrier.wait()
        results[i] = client.post_json("/api/v1/orders", body, headers=headers, status="*")

    threads = [threading.Thread(target=run, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_concurrent_identical_requests_create_one_order(app, control, shop):
    for round_ in range(3):
        h = shop.headers(**{"Idempotency-Key": f"race-{round_}"})
        results = concurrently(app, [(order_body(), h), (order_body(), h)])
        assert [r.status_int for r in results] == [201, 201]
        assert results[0].body == results[1].body
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in results) == ["", "true"]
    assert orders(control, shop) == 3 and stock(control, shop, "TEA-1") == 4
    body = order_body(external_reference="RACE-REF")
    results = concurrently(app, [(body, shop.headers()), (body, shop.headers())])
    assert [r.status_int for r in results] == [201, 201] and results[0].body == results[1].body
    assert orders(control, shop) == 4


def test_the_last_item_is_sold_once(app, control, shop):
    body = order_body(lines=[{"sku": "TEA-2", "quantity": 1}])
    results = concurrently(app, [(body, shop.headers()), (body, shop.headers())])
    assert sorted(r.status_int for r in results) == [201, 409]
    assert stock(control, shop, "TEA-2") == 0 and orders(control, shop) == 1


def place(app, shop, n: int = 1, **kw) -> list[dict]:
    kw.setdefault("lines", [{"sku": "TEA-1", "quantity": 1}])
    return [
        app.post_json("/api/v1/orders", order_body(**kw), headers=shop.headers()).json
        for _ in range(n)
    ]


def test_list_with_cursor_pagination_and_filters(app, shop):
    made = place(app, shop, 5)
    place(app, shop, 1, customer={"email": "bob@example.com"}, external_reference="R-9")
    h = shop.headers("read")
    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = app.get("/api/v1/orders", params, headers=h).json
        seen += [o["id"] for o in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == 6
    by_ref = app.get("/api/v1/orders", {"external_reference": "R-9"}, headers=h).json["data"]
    assert [o["customer"]["email"] for o in by_ref] == ["bob@example.com"]
    assert len(app.get("/api/v1/orders", {"email": "ANN@example.com"}, headers=h).json["data"]) == 5
    app.post_json(
        f"/api/v1/orders/{made[0]['id']}/status", {"status": "confirmed"}, headers=shop.headers()
    )
    confirmed = app.get("/api/v1/orders", {"status": "confirmed"}, headers=h).json["data"]
    assert [o["id"] for o in confirmed] == [made[0]["id"]]
    assert app.get("/api/v1/orders", {"created_after": "2100-01-01T00:00:00Z"}, headers=h).json == {
        "data": [],
        "next_cursor": None,
    }
    assert (
        len(
            app.get(
                "/api/v1/orders", {"created_before": "2100-01-01T00:00:00+02:00"}, headers=h
            ).json["data"]
        )
        == 6
    )
    for params in (
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "x"},
        {"cursor": "@@"},
        {"cursor": "aWQ6eA"},
        {"created_after": "yesterday"},
    ):
        assert err(app.get("/api/v1/orders", params, headers=h, status=400))["code"] == (
            "bad_request"
        )


def test_get_status_change_and_notes(app, control, shop):
    order = place(app, shop)[0]
    h, oid = shop.headers(), order["id"]
    assert app.get(f"/api/v1/orders/{oid}", headers=h).json == order
    assert err(app.get("/api/v1/orders/999999", headers=h, status=404))["code"] == "not_found"
    res = app.post_json(
        f"/api/v1/orders/{oid}/status", {"status": "delivered"}, headers=h, status=422
    )
    assert err(res)["details"] == {
        "from": "new",
        "to": "delivered",
        "allowed": ["confirmed", "cancelled"],
    }
    # "paid" is a payment status (from the ledger), not a move of the fulfilment flow.
    res = app.post_json(f"/api/v1/orders/{oid}/status", {"status": "paid"}, headers=h, status=422)
    assert err(res)["code"] == "invalid_transition"
    for status in ("confirmed", "shipped"):
        assert (
            app.post_json(f"/api/v1/orders/{oid}/status", {"status": status}, headers=h).json[
                "status"
            ]
            == status
        )
    app.post_json(f"/api/v1/orders/{oid}/status", {"status": "no-such"}, headers=h, status=422)
    app.post_json(f"/api/v1/orders/{oid}/status", {}, headers=h, status=422)
    app.post_json("/api/v1/orders/999999/status", {"status": "shipped"}, headers=h, status=404)
    note = app.post_json(
        f"/api/v1/orders/{oid}/notes", {"message": "gift wrap"}, headers=h, status=201
    ).json
    assert note["kind"] == "note" and note["message"] == "gift wrap"
    assert note["actor"].startswith("api:bo_live_")
    app.post_json(f"/api/v1/orders/{oid}/notes", {"message": ""}, headers=h, status=422)
    app.post_json("/api/v1/orders/999999/notes", {"message": "x"}, headers=h, status=404)
    kinds = count(
        control, shop, select(func.group_concat(OrderEvent.kind)).where(OrderEvent.order_id == oid)
    )
    assert kinds.split(",").count("status_changed") == 2 and "note" in kinds


def test_public_order_status_shows_no_personal_data(app, shop):
    order = place(app, shop)[0]
    status = app.get(
        f"/api/v1/order-status/{order['status_token']}", headers=shop.headers("read")
    ).json
    assert status["number"] == order["number"] and status["status"] == "new"
    assert status["lines"] == [{"sku": "TEA-1", "name": "Green tea", "quantity": 1}]
    text = str(status)
    assert "ann@example.com" not in text and "Main St" not in text and "555" not in text
    app.get("/api/v1/order-status/not-a-token", headers=shop.headers("read"), status=404)


def test_products_and_customers(app, shop):
    h = shop.headers("read")
    products = app.get("/api/v1/products", headers=h).json["data"]
    assert [p["sku"] for p in products] == ["OLD-1", "TEA-2", "TEA-1"]
    assert [
        p["sku"] for p in app.get("/api/v1/products", {"active": "true"}, headers=h).json["data"]
    ] == ["TEA-2", "TEA-1"]
    app.get("/api/v1/products", {"active": "maybe"}, headers=h, status=400)
    product = app.get("/api/v1/products/TEA-1", headers=h).json
    assert product["price_minor"] == 1250 and product["currency"] == "EUR"
    app.get("/api/v1/products/NOPE", headers=h, status=404)
    order = place(app, shop)[0]
    customer_id = order["customer"]["id"]
    customers = app.get("/api/v1/customers", headers=h).json["data"]
    assert [c["id"] for c in customers] == [customer_id]
    assert app.get(f"/api/v1/customers/{customer_id}", headers=h).json["email"] == (
        "ann@example.com"
    )
    app.get("/api/v1/customers/424242", headers=h, status=404)
    assert app.get("/api/v1/customers", {"email": "nobody@x.test"}, headers=h).json["data"] == []
