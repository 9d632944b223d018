"""The store API under hostile input and racing clients (issue 18, findings 6 and 7).

Twenty identical requests at once against a real server and MariaDB make one
order and no 5xx; tokens, keys and references compare byte for byte; input that
Python's own parsers accept too generously is a 4xx, never a 500.
"""

from __future__ import annotations

import threading

import pytest
import requests
import waitress
from webob import Request

from backoffice.config import make_app
from tests.storefront.conftest import order_body
from tests.storefront.test_api_orders import orders, stock


@pytest.fixture
def served(api_settings, control):
    """The app behind waitress with enough threads for every client at once."""
    server = waitress.create_server(
        make_app(api_settings, control=control), host="127.0.0.1", port=0, threads=24
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def at_once(n: int, send) -> list:
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = send()
        except Exception as exc:  # noqa: BLE001 -- reported by the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_twenty_identical_requests_at_once_make_one_order(served, control, shop):
    url = f"{served}/s/{shop.slug}/api/v1/orders"
    for round_, extra in enumerate([{}, {"external_reference": "RACE-20"}]):
        headers = shop.headers(**{"Idempotency-Key": f"twenty-{round_}"})
        body = order_body(**extra)
        answers = at_once(
            20, lambda b=body, h=headers: requests.post(url, json=b, headers=h, timeout=90)
        )
        assert all(isinstance(a, requests.Response) for a in answers), answers
        statuses = sorted(a.status_code for a in answers)
        assert all(s in (201, 409) for s in statuses), [(a.status_code, a.text) for a in answers]
        created = [a for a in answers if a.status_code == 201]
        assert len({a.content for a in created}) == 1
        assert sum(1 for a in created if "Idempotent-Replayed" not in a.headers) == 1
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["error"]["code"] == "in_progress"
                assert answer.headers["Retry-After"]
    assert orders(control, shop) == 2 and stock(control, shop, "TEA-1") == 6


def test_tokens_keys_and_references_compare_byte_for_byte(app, control, shop):
    placed = app.post_json("/api/v1/orders", order_body(), headers=shop.headers()).json
    token = placed["status_token"]
    swapped = token.swapcase()
    assert swapped != token
    app.get(f"/api/v1/order-status/{token}", headers=shop.headers())
    app.get(f"/api/v1/order-status/{swapped}", headers=shop.headers(), status=404)
    # Keys and references that differ in case are different keys and references.
    for key in ("Key-A", "key-a"):
        res = app.post_json(
            "/api/v1/orders", order_body(), headers=shop.headers(**{"Idempotency-Key": key})
        )
        assert res.status_int == 201 and "Idempotent-Replayed" not in res.headers
    for reference in ("WEB-Ab", "WEB-aB"):
        body = order_body(external_reference=reference, shipping_address=reference)
        app.post_json("/api/v1/orders", body, headers=shop.headers(), status=201)
    assert orders(control, shop) == 5
    # The hosted order page reads the same token.
    app.get(f"/checkout/order/{swapped}", headers={"Host": shop.host}, status=404)


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    "body,status",
    [
        (DEEP, 413),
        (b"[" * 30_000 + b"]" * 30_000, 400),
        (b'{"lines": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400),
        (b'{"lines": [{"sku": "TEA-1", "quantity": NaN}]}', 400),
        (b'{"lines": [{"sku": "TEA-1", "quantity": 1e400}]}', 422),
        (b'{"lines": [{"sku": "TEA-1", "quantity": 1180591620717411303424}]}', 422),
        (b'{"lines": [{"sku": "TEA-1", "quantity": 1e29}]}', 422),
        (b'{"lines": [{"sku": "TEA-1", "quantity": 2.0}]}', 422),
        (b'{"lines": [{"sku": "TEA-1", "quantity": 1}], "expires_in": 1e29}', 422),
        (b"\xff\xfe{}", 400),
        (b"{" + b'"a": "' + b"x" * 70_000 + b'"}', 413),
    ],
)
def test_hostile_bodies_are_refused_not_crashed_on(app, shop, body, status):
    for path in ("/api/v1/orders", "/api/v1/carts"):
        res = app.post(
            path, body, headers=shop.headers(**{"Content-Type": "application/json"}), status="*"
        )
        assert res.status_int == status, (path, res.status_int, res.text[:300])
        assert res.json["error"]["code"]
    # Without a key, the body is not even read: 401.
    res = app.post("/api/v1/orders", DEEP, headers={"Host": shop.host}, status="*")
    assert res.status_int == 401


@pytest.mark.parametrize(
    "query",
    [
        "limit=%C2%B2",  # "²": str.isdigit() says yes, int() says no
        "limit=%D9%A3",  # "٣": int() reads it as 3
        "limit=1180591620717411303424",
        "limit=-1",
        "cursor=aWQ6wrI",  # "id:²"
        "created_after=0001-01-01T00:00:00%2B05:00",
        "created_before=9999-12-31T23:59:59-05:00",
        "created_after=%EF%BC%91%EF%BC%99%EF%BC%97%EF%BC%90-01-01",  # full-width digits
        "created_after=2026-13-01",
    ],
)
def test_hostile_query_parameters_are_a_400(app, shop, query):
    res = app.get(f"/api/v1/orders?{query}", headers=shop.headers(), status="*")
    assert res.status_int == 400, (query, res.status_int, res.text[:300])
    assert res.json["error"]["code"] == "bad_request"


def test_sane_dates_still_filter(app, shop):
    app.post_json("/api/v1/orders", order_body(), headers=shop.headers(), status=201)
    res = app.get("/api/v1/orders?created_after=2000-01-01T00:00:00Z", headers=shop.headers())
    assert len(res.json["data"]) == 1
    res = app.get(
        "/api/v1/orders?created_before=2000-01-01T00:00:00%2B05:00", headers=shop.headers()
    )
    assert res.json["data"] == []


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/%ff", "/api/v1/order-status/%c3%28", "/admin/%ff", "/checkout/%80"]
)
def test_an_undecodable_path_or_query_is_a_400(app, shop, path):
    res = app.get(path, headers=shop.headers(), status="*")
    assert res.status_int == 400
    for query in ("status=%ff", "limit=\xb2"):  # WSGI strings: bytes as Latin-1
        request = Request.blank("/api/v1/orders", headers=shop.headers())
        request.environ["QUERY_STRING"] = query
        res = request.get_response(app.app)
        assert res.status_int == 400 and res.json["error"]["code"] == "bad_request"
