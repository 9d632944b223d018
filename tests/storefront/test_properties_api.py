"""Property-based: the store API answers any body, query string or path segment with a
documented status (docs/api.md), never a 5xx, and logs no error (issue 18, item 13)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from hypothesis import example, given
from hypothesis import strategies as st
from webob import Request

from tests.properties import BOUNDED, errors_logged, json_values, nasty_text

DOCUMENTED = {200, 201, 400, 401, 403, 404, 409, 413, 422, 429}
JSON = {"Content-Type": "application/json"}

line = st.fixed_dictionaries(
    {"sku": st.sampled_from(["TEA-1", "TEA-2"]) | json_values, "quantity": json_values}
)
order_like = st.fixed_dictionaries(
    {"lines": st.lists(line, max_size=3) | json_values},
    optional={
        "customer": st.fixed_dictionaries({"email": st.just("a@b.c") | json_values}) | json_values,
        "external_reference": json_values,
        "locale": json_values,
        "expires_in": json_values,
        "shipping_address": json_values,
    },
)
bodies = st.one_of(
    order_like.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)
PARAMS = [
    "limit",
    "cursor",
    "status",
    "payment_status",
    "created_after",
    "created_before",
    "email",
    "active",
    "external_reference",
]


def check(res, caplog, what) -> None:
    assert res.status_int in DOCUMENTED, (what, res.status_int, res.text[:300])
    assert res.content_type == "application/json", what
    assert not errors_logged(caplog), (what, errors_logged(caplog))


@BOUNDED
@given(
    path=st.sampled_from(
        ["/api/v1/orders", "/api/v1/carts", "/api/v1/orders/1/status", "/api/v1/orders/1/notes"]
    ),
    body=bodies,
)
@example(path="/api/v1/orders", body=b"[" * 30_000 + b"]" * 30_000)
def test_any_body(app, shop, caplog, path, body):
    caplog.clear()
    res = app.post(path, body, headers=shop.headers(**JSON), status="*")
    check(res, caplog, (path, body[:200]))


@BOUNDED
@given(
    path=st.sampled_from(["/api/v1/orders", "/api/v1/products", "/api/v1/customers"]),
    params=st.dictionaries(st.sampled_from(PARAMS), nasty_text, max_size=4),
)
@example(path="/api/v1/orders", params={"limit": "²"})
@example(path="/api/v1/orders", params={"created_after": "0001-01-01T00:00:00+05:00"})
def test_any_query_string(app, shop, caplog, path, params):
    caplog.clear()
    res = app.get(path + "?" + urlencode(params), headers=shop.headers(), status="*")
    check(res, caplog, (path, params))


@BOUNDED
@given(raw=st.binary(max_size=60), where=st.sampled_from(["query", "path"]))
def test_any_bytes_in_the_request_line(app, shop, caplog, raw, where):
    caplog.clear()
    request = Request.blank("/api/v1/orders", headers=shop.headers())
    text = raw.decode("latin-1")  # how WSGI hands bytes over
    if where == "query":
        request.environ["QUERY_STRING"] = text
    else:
        request.environ["PATH_INFO"] = "/api/v1/order-status/" + text
    check(request.get_response(app.app), caplog, (where, raw))


@BOUNDED
@given(
    route=st.sampled_from(["order-status", "products", "orders", "customers"]),
    segment=nasty_text.filter(lambda s: s not in ("", ".", "..")),
)
def test_any_path_segment(app, shop, caplog, route, segment):
    caplog.clear()
    res = app.get(f"/api/v1/{route}/{quote(segment, safe='')}", headers=shop.headers(), status="*")
    check(res, caplog, (route, segment))
