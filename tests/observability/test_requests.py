"""Request ids, the access log, and the 500 page's reference, through the WSGI app."""

import re
import uuid

import pytest

from tests.tasks.conftest import add_order, order_events

HTML = {"Accept": "text/html"}


def test_a_request_gets_an_id_in_the_response_and_in_its_log_lines(make_app, store, log_lines):
    app = make_app()
    res = app.get(f"/s/{store.slug}/probe/hello")
    request_id = res.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = [r for r in log_lines.records() if r["message"] == "hello from the view"]
    assert line["request_id"] == request_id
    [access] = log_lines.records("backoffice.access")
    assert access["request_id"] == request_id
    # Each request its own id.
    assert app.get(f"/s/{store.slug}/probe/hello").headers["X-Request-ID"] != request_id


def test_a_sensible_incoming_id_is_kept(make_app, store, log_lines):
    res = make_app().get(
        f"/s/{store.slug}/probe/hello", headers={"X-Request-ID": "edge-7f3a.1:42_ab"}
    )
    assert res.headers["X-Request-ID"] == "edge-7f3a.1:42_ab"
    assert log_lines.records("backoffice.access")[0]["request_id"] == "edge-7f3a.1:42_ab"


@pytest.mark.parametrize(
    "sent",
    ["short", "x" * 65, "abc def ghij", "line\r\nX-Injected: 1", "<script>alert(1)</script>"],
)
def test_an_unsafe_incoming_id_is_replaced(make_app, sent):
    res = make_app().get("/healthz", headers={"X-Request-ID": sent})
    assert res.headers["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", res.headers["X-Request-ID"])


def test_access_line_has_what_an_operator_needs_and_no_secrets(make_app, store, log_lines):
    app = make_app()
    app.get(
        f"/s/{store.slug}/probe/cart/cart-token-abcdef123456?key=query-secret&password=pw",
        headers={"X-Forwarded-For": "198.51.100.7"},  # no proxy is trusted here
        extra_environ={"REMOTE_ADDR": "203.0.113.9"},
    )
    [line] = log_lines.records("backoffice.access")
    assert line["method"] == "GET"
    assert line["path"] == f"/s/{store.slug}/probe/cart/***"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["bytes"] == len(b'{"ok": true}')
    assert line["client_ip"] == "203.0.113.9"
    assert line["store"] == store.slug
    text = str(line)
    for secret in ("cart-token-abcdef123456", "query-secret", "password"):
        assert secret not in text


def test_refused_and_operator_requests_are_logged_too(make_app, log_lines):
    app = make_app()
    app.get("/s/no-such-shop/probe/hello", status=404)
    app.get("/healthz")
    lines = log_lines.records("backoffice.access")
    assert [(r["path"], r["status"], r["store"]) for r in lines] == [
        ("/s/no-such-shop/probe/hello", 404, None),
        ("/healthz", 200, None),
    ]


def test_a_500_page_shows_the_request_id_and_the_error_is_logged_with_it(
    make_app, store, log_lines
):
    app = make_app()
    res = app.get(f"/s/{store.slug}/probe/boom?token=in-the-query", headers=HTML, status=500)
    request_id = res.headers["X-Request-ID"]
    assert f"<code>{request_id}</code>" in res.text
    [error] = [r for r in log_lines.records("backoffice.views.errors")]
    assert error["request_id"] == request_id
    assert "RuntimeError: the probe fails" in error["exception"]
    assert "in-the-query" not in error["message"]
    # A 4xx page is the client's doing: no reference to quote.
    res = app.get("/s/no-such-shop/probe/hello", headers=HTML, status=404)
    assert res.headers["X-Request-ID"] not in res.text


def test_an_eager_task_logs_with_the_id_of_the_request_that_queued_it(
    make_app, store, sqlite_control, log_lines
):
    order_id = add_order(sqlite_control, store)
    message = f"kept-{uuid.uuid4().hex}"
    res = make_app().post(
        f"/s/{store.slug}/probe/order-event",
        {"order_id": order_id, "message": message},
        headers={"X-Request-ID": "eager-request-0001"},
    )
    assert order_events(sqlite_control, store) == [(order_id, "note", message)]
    assert res.headers["X-Request-ID"] == "eager-request-0001"
    [task_line] = log_lines.records("celery.app.trace")
    assert "orders.record_event" in task_line["message"] and "succeeded" in task_line["message"]
    assert {r["request_id"] for r in log_lines.records()} == {"eager-request-0001"}
