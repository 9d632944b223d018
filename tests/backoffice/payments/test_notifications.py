"""Notifications that must not be accepted, and the one that must, exactly once."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import waitress.server
from sqlalchemy import update
from sqlalchemy.orm import Session

from backoffice.config import make_app
from backoffice.payments.models import GatewayConfig
from tests.backoffice.payments.conftest import SECRET_A, Shop, checkout_for, signed


def assert_not_paid(shop, order_id, status, error_part):
    assert shop.order_row(order_id).payment_status == "unpaid"
    assert not [p for p in shop.payments(order_id) if p.status == "succeeded"]
    last = shop.notifications()[-1]
    assert last.status == status
    assert error_part in last.error


def test_a_genuine_notification_marks_the_order_paid_once(shop):
    order_id = shop.order()
    body, headers = signed(checkout_for(order_id))
    res = shop.notify("sandbox", body, headers, status=200)
    assert res.json == {"received": True}
    assert shop.order_row(order_id).payment_status == "paid"
    (payment,) = shop.payments(order_id)
    assert (payment.kind, payment.status, payment.amount_minor) == (
        "payment.succeeded",
        "succeeded",
        1500,
    )
    stored = shop.notifications()[-1]
    assert stored.status == "accepted" and stored.body == body and stored.order_id == order_id
    assert "payment_received" in [e.kind for e in shop.events(order_id)]
    # Replayed within the tolerance: recorded, acknowledged, changes nothing.
    shop.notify("sandbox", body, headers, status=200)
    assert len(shop.payments(order_id)) == 1
    assert shop.notifications()[-1].status == "duplicate"


def test_tampered_body_is_refused(shop):
    order_id = shop.order()
    body, headers = signed(checkout_for(order_id))
    forged = body.replace(b'"amount": 1500', b'"amount": 15')
    assert forged != body
    shop.notify("sandbox", forged, headers, status=400)
    assert_not_paid(shop, order_id, "rejected", "bad sandbox notification signature")


@pytest.mark.parametrize("skew", [-3600, 3600])
def test_stale_and_future_dated_notifications_are_refused(shop, skew):
    order_id = shop.order()
    when = datetime.now(UTC) + timedelta(seconds=skew)
    body, headers = signed(checkout_for(order_id), now=when)
    shop.notify("sandbox", body, headers, status=400)
    assert_not_paid(shop, order_id, "rejected", "timestamp is too")


def test_a_notification_signed_for_another_store_is_refused(shop, make_store, control):
    other = Shop(control, make_store(), shop.app)
    other.configure("sandbox", {"page_url": "https://pay.test/b", "secret": "secret-of-b"})
    order_id = other.order()
    body, headers = signed(checkout_for(order_id), secret=SECRET_A)  # store A's secret
    other.notify("sandbox", body, headers, status=400)
    assert_not_paid(other, order_id, "rejected", "signature")
    other.engine.dispose()


@pytest.mark.parametrize(
    "amount,currency,problem",
    [
        (1400, "EUR", "the order total is 15.00 EUR"),
        (1500, "USD", "payment in USD; the order is in EUR"),
    ],
)
def test_wrong_amount_or_currency_is_flagged_not_paid(shop, amount, currency, problem):
    order_id = shop.order()
    body, headers = signed(checkout_for(order_id, amount, currency))
    shop.notify("sandbox", body, headers, status=200)  # authentic: no point in retrying
    assert_not_paid(shop, order_id, "flagged", problem)
    flags = [e for e in shop.events(order_id) if e.kind == "payment_flagged"]
    assert len(flags) == 1 and problem in flags[0].message


def test_missing_secret_fails_closed(shop):
    order_id = shop.order()
    body, headers = signed(checkout_for(order_id))
    with Session(shop.engine) as db, db.begin():
        db.execute(update(GatewayConfig).values(secrets={}))
    shop.notify("sandbox", body, headers, status=503)  # retried once the store is fixed
    assert_not_paid(shop, order_id, "rejected", "ConfigError")


def test_unknown_gateway_is_refused_and_not_stored(shop):
    # Anyone may post here: nothing is stored for a gateway the store has not set up.
    shop.notify("nope", b"x=1", {"Content-Type": "application/x-www-form-urlencoded"}, status=404)
    assert shop.notifications() == []


def test_secrets_never_stored_in_headers(shop):
    order_id = shop.order()
    body, headers = signed(checkout_for(order_id))
    # (An Authorization header would be taken for an API key by the store router.)
    shop.notify("sandbox", body, {**headers, "Cookie": "bo_session=abc"}, status=200)
    names = {name.lower() for name, _value in shop.notifications()[-1].headers}
    assert "x-sandbox-signature" in names
    assert "cookie" not in names


def test_twenty_concurrent_deliveries_record_one_payment(shop, mysql_settings, control):
    order_id = shop.order()
    body, headers = signed(checkout_for(order_id))
    server = waitress.server.create_server(
        make_app(mysql_settings, control=control), host="127.0.0.1", port=0, threads=20
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}{shop.prefix}/payments/notify/sandbox"
    statuses, barrier = [], threading.Barrier(20)

    def deliver():
        barrier.wait()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            statuses.append((response.status, json.loads(response.read())))

    workers = [threading.Thread(target=deliver) for _ in range(20)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    finally:
        server.close()
    assert statuses == [(200, {"received": True})] * 20
    assert len(shop.payments(order_id)) == 1
    assert shop.order_row(order_id).payment_status == "paid"
    kinds = [n.status for n in shop.notifications() if n.order_id == order_id]
    assert sorted(kinds) == ["accepted"] + ["duplicate"] * 19
    assert [e.kind for e in shop.events(order_id)].count("payment_received") == 1


def test_return_page_never_marks_paid(shop):
    order_id = shop.order()
    token = shop.order_row(order_id).status_token
    url = f"{shop.prefix}/payments/return/sandbox?order={order_id}&token={token}"
    for _ in range(3):
        res = shop.app.get(url + "&status=succeeded&InvId=1&SignatureValue=x")
        assert 'data-paid="no"' in res.text
    assert shop.order_row(order_id).payment_status == "unpaid"
    assert shop.payments(order_id) == []
    shop.app.get(f"{shop.prefix}/payments/return/sandbox?order={order_id}&token=bad", status=404)
    body, headers = signed(checkout_for(order_id))
    shop.notify("sandbox", body, headers, status=200)
    assert 'data-paid="yes"' in shop.app.get(url).text
