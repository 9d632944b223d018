"""Order events reach a reseller's site: signed, deduplicable, retried, logged."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from webtest import TestApp

from backoffice.config import make_app
from backoffice.models import WebhookDelivery
from backoffice.webhooks import services
from backoffice.webhooks.delivery import backoff
from backoffice.webhooks.signing import SignatureError, signature_header, verify
from tests.storefront.conftest import order_body, store_engine


class Receiver:
    """A reseller's endpoint on 127.0.0.1 that checks signatures like docs/api.md says."""

    def __init__(self, fail_first: int = 0):
        self.secret = ""
        self.fail_first = fail_first
        self.received: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.handle(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def handle(self, handler, body: bytes) -> None:
        try:
            verify(self.secret, handler.headers.get("X-Signature"), body)
            valid = True
        except SignatureError:
            valid = False
        with self.lock:
            self.received.append(
                {
                    "valid": valid,
                    "body": json.loads(body),
                    "event_id": handler.headers.get("X-Event-Id"),
                    "attempt": handler.headers.get("X-Delivery-Attempt"),
                }
            )
            fail = len(self.received) <= self.fail_first
        handler.send_response(500 if fail or not valid else 204)
        handler.end_headers()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(fail_first=0):
        made.append(Receiver(fail_first))
        return made[-1]

    yield make
    for r in made:
        r.close()


def add_endpoint(control, shop, url: str, events=("order.created", "order.status_changed")):
    engine = store_engine(control, shop.tenant)
    with Session(engine) as db:
        endpoint, secret = services.create_endpoint(
            db, control.keyring, shop.tenant.id, url, events, allow_private=True
        )
        db.commit()
        endpoint_id = endpoint.id
    engine.dispose()
    return endpoint_id, secret


def deliveries(control, shop) -> list[WebhookDelivery]:
    engine = store_engine(control, shop.tenant)
    with Session(engine) as db:
        rows = list(db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
    engine.dispose()
    return rows


def test_order_created_is_signed_and_retried_until_delivered(app, control, shop, receiver):
    site = receiver(fail_first=2)
    _id, site.secret = add_endpoint(control, shop, site.url)
    order = app.post_json(
        "/api/v1/orders", order_body(external_reference="W-1"), headers=shop.headers(), status=201
    ).json
    assert [r["valid"] for r in site.received] == [True, True, True]
    assert [r["attempt"] for r in site.received] == ["1", "2", "3"]
    # One event, the same id on every attempt, so the site can drop duplicates.
    assert len({r["event_id"] for r in site.received}) == 1
    event = site.received[-1]["body"]
    assert event["id"] == site.received[0]["event_id"] and event["type"] == "order.created"
    assert event["store"] == shop.slug
    assert event["data"]["order"]["number"] == order["number"]
    assert event["data"]["order"]["external_reference"] == "W-1"
    assert "customer" not in event["data"]["order"]
    [logged] = deliveries(control, shop)
    assert (logged.state, logged.attempts, logged.last_status) == ("delivered", 3, 204)
    assert [h["status"] for h in logged.history] == [500, 500, 204]


def test_status_change_event_and_failure_after_max_attempts(api_settings, control, shop, receiver):
    app = TestApp(
        make_app({**api_settings, "backoffice.webhook_max_attempts": "3"}, control=control)
    )
    site = receiver(fail_first=100)
    _id, site.secret = add_endpoint(control, shop, site.url, events=["order.status_changed"])
    order = app.post_json("/api/v1/orders", order_body(), headers=shop.headers()).json
    assert site.received == []  # not subscribed to order.created
    app.post_json(
        f"/api/v1/orders/{order['id']}/status", {"status": "confirmed"}, headers=shop.headers()
    )
    assert len(site.received) == 3
    body = site.received[0]["body"]
    assert body["type"] == "order.status_changed"
    assert body["data"]["order"]["status"] == "confirmed"
    assert body["data"]["previous_status"] == "new"
    [logged] = deliveries(control, shop)
    assert (logged.state, logged.attempts) == ("failed", 3)


def test_a_wrong_secret_is_refused_and_nothing_is_sent_for_a_failed_request(
    app, control, shop, receiver
):
    site = receiver()
    add_endpoint(control, shop, site.url)
    site.secret = "whsec_not-the-right-one"
    app.post_json("/api/v1/orders", order_body(), headers=shop.headers(), status=201)
    assert site.received and not any(r["valid"] for r in site.received)
    before = len(site.received)
    app.post_json(
        "/api/v1/orders",
        order_body(lines=[{"sku": "TEA-2", "quantity": 9}]),
        headers=shop.headers(),
        status=409,
    )
    assert len(site.received) == before  # a refused order sends no event


def test_unreachable_endpoint_is_logged(api_settings, control, shop):
    app = TestApp(
        make_app({**api_settings, "backoffice.webhook_max_attempts": "2"}, control=control)
    )
    add_endpoint(control, shop, "http://127.0.0.1:9/closed")
    app.post_json("/api/v1/orders", order_body(), headers=shop.headers(), status=201)
    [logged] = deliveries(control, shop)
    assert logged.state == "failed" and logged.attempts == 2 and logged.last_status is None
    assert logged.last_error


def test_signature_rules():
    body = b'{"id":"evt_1"}'
    header = signature_header("whsec_x", body, timestamp=1_700_000_000)
    assert verify("whsec_x", header, body, now=1_700_000_100) == 1_700_000_000
    for secret, hdr, data, now in (
        ("whsec_x", header, body + b" ", 1_700_000_000),  # body changed
        ("whsec_y", header, body, 1_700_000_000),  # other secret
        ("whsec_x", header, body, 1_700_000_000 + 301),  # too old
        ("whsec_x", header, body, 1_700_000_000 - 301),  # from the future
        ("", header, body, 1_700_000_000),  # no secret: never open
        ("whsec_x", "v1=abc", body, 1_700_000_000),
    ):  # no timestamp
        with pytest.raises(SignatureError):
            verify(secret, hdr, data, now=now)
    assert [backoff(n, 30) for n in (1, 2, 3, 12, 30)] == [30, 60, 120, 21600, 21600]


def test_endpoint_urls_are_checked(control, shop):
    engine = store_engine(control, shop.tenant)
    with Session(engine) as db:
        for url in (
            "ftp://x.test/",
            "http://127.0.0.1/x",
            "http://localhost/x",
            "http://10.0.0.5/x",
            "javascript:alert(1)",
        ):
            with pytest.raises(services.EndpointError):
                services.create_endpoint(
                    db, control.keyring, shop.tenant.id, url, ["order.created"]
                )
        with pytest.raises(services.EndpointError):
            services.create_endpoint(db, control.keyring, shop.tenant.id, "https://ok.test/", [])
    engine.dispose()
