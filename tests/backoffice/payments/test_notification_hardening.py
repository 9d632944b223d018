"""The open notification endpoint (issue 18, findings 7 and 8): what anyone can make a
store keep is bounded, and no notification, signed or not, crashes or stays "received"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backoffice.payments.models import PaymentNotification
from payments.gateways import sandbox
from tests.backoffice.payments.conftest import SECRET_A, checkout_for, signed

JSON = {"Content-Type": "application/json"}


def sign(payload: dict | bytes) -> tuple[bytes, dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    now = int(datetime.now(UTC).timestamp())
    return body, {**JSON, sandbox.SIGNATURE_HEADER: sandbox.sign_notification(body, SECRET_A, now)}


def test_unknown_or_unset_gateways_are_refused_before_anything_is_stored(shop):
    for gateway in ("nope", "stripe", "manual", "%C2%B2"):
        shop.notify(gateway, b"x" * 500_000, JSON, status=404)
    assert shop.count(PaymentNotification) == 0


def test_bodies_beyond_the_gateways_limit_are_refused_unread(shop):
    order_id = shop.order()
    body, headers = signed(checkout_for(order_id))
    padded = body[:-1] + b', "pad": "' + b"x" * 40_000 + b'"}'
    shop.notify("sandbox", padded, headers, status=413)
    deep = b"[" * 100_000 + b"]" * 100_000
    shop.notify("sandbox", deep, JSON, status=413)
    shop.notify("sandbox", b"[" * 15_000 + b"]" * 15_000, JSON, status=400)
    shop.notify("sandbox", b'{"amount": NaN}', JSON, status=400)
    assert shop.count(PaymentNotification) == 0


def test_unauthenticated_notifications_leave_a_bounded_rate_limited_trace(shop):
    body = b'{"forged": "' + b"x" * 20_000 + b'"}'
    for _ in range(35):
        shop.notify("sandbox", body, {**JSON, "X-Sandbox-Signature": "t=1,v1=00"}, status=400)
    stored = shop.notifications()
    assert len(stored) == 30  # RejectedLimit: 30 a minute per store
    assert all(n.status == "rejected" and len(n.body) == 1024 for n in stored)
    assert f"{len(body)} bytes, sha256" in stored[0].error


@pytest.mark.parametrize(
    "changes,status",
    [
        ({"amount": 2**70}, 400),
        ({"amount": 10**17}, 400),
        ({"amount": 1e29}, 400),
        ({"amount": -1500}, 200),
        ({"created": 10**20}, 400),
        ({"created": -(10**15)}, 400),
        ({"order_reference": "\u00b2"}, 400),  # flagged: no order of this store
        ({"order_reference": "9" * 40}, 400),
        ({"payment_id": "pay_" + "x" * 500}, 400),
        ({"currency": "\u20ac\u20ac\u20ac"}, 400),
    ],
)
def test_signed_notifications_with_hostile_values_end_in_a_final_state(shop, changes, status):
    order_id = shop.order()
    payload = json.loads(signed(checkout_for(order_id))[0])
    payload.update(changes)
    res = shop.notify("sandbox", *sign(payload), status="*")
    assert res.status_int == status, res.text
    assert shop.order_row(order_id).payment_status == "unpaid"
    stored = shop.notifications()
    assert stored and all(n.status in ("rejected", "flagged", "error") for n in stored)
