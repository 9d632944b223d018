"""Stripe: Checkout sessions and refunds on a local API, signed webhooks."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from payments.errors import ConfigError, ProviderError, VerificationError
from payments.gateways.stripe import (
    StripeGateway,
    form_encode,
    from_stripe_amount,
    sign_payload,
    to_stripe_amount,
    verify_signature,
)
from payments.interfaces import EventKind, RefundRequest
from payments.money import Money

WHSEC = "whsec_test_secret"
T = 1714564800  # conftest NOW


def test_signature_vector_computed_per_docs(build_notification):
    # openssl: printf '%s' '1714564800.{"id":"evt_1","type":"ping"}' |
    #          openssl dgst -sha256 -hmac whsec_test_secret
    body = b'{"id":"evt_1","type":"ping"}'
    expected = "aefa51ececfe82e00187fa02a0489cffd90722d1787bbe8ceeb3142424b77801"
    assert sign_payload(body, WHSEC, T) == f"t={T},v1={expected}"
    note = build_notification(body)
    verify_signature(f"t={T},v0=zz,v1=00ff,v1={expected}", body, WHSEC, note.received_at)


@pytest.fixture
def setup(stripe_api):
    api, server = stripe_api
    config = {"secret_key": "sk_test_123", "webhook_secret": WHSEC, "api_base": server.base_url}
    return api, server, config


def webhook(build_notification, event: dict, *, secret=WHSEC, t=T, received_skew=0):
    body = json.dumps(event).encode()
    note = build_notification(body, headers={"Stripe-Signature": sign_payload(body, secret, t)})
    if received_skew:
        note = replace(note, received_at=note.received_at + timedelta(seconds=received_skew))
    return note


def session_completed(**obj):
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "payment_status": "paid",
        "payment_intent": "pi_1",
        "amount_total": 1999,
        "currency": "usd",
        "client_reference_id": "1001",
        "metadata": {"order_reference": "1001"},
    }
    session.update(obj)
    return {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "created": T,
        "data": {"object": session},
    }


def test_round_trip(setup, build_request, build_notification):
    api, server, config = setup
    gateway = StripeGateway()
    start = gateway.start_payment(build_request(Money(1999, "USD")), config)
    sent = server.requests[-1]
    assert sent.path == "/v1/checkout/sessions"
    assert sent.headers["Idempotency-Key"] == "order-1001-attempt-1"
    form = sent.form()
    assert form["line_items[0][price_data][unit_amount]"] == "1999"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["metadata[order_reference]"] == "1001"
    assert form["payment_intent_data[metadata][order_reference]"] == "1001"
    assert start.kind == "redirect" and start.url.startswith("https://checkout.stripe.com/")
    assert start.provider_reference in api.sessions

    note = webhook(build_notification, session_completed(id=start.provider_reference))
    [event] = gateway.verify_notification(note, config)
    assert event.kind == EventKind.PAYMENT_SUCCEEDED
    assert (event.provider_reference, event.event_id) == ("pi_1", "evt_1")
    assert event.order_reference == "1001"
    assert event.amount == Money(1999, "USD")
    ack = gateway.acknowledge(note, [event])
    assert ack.status == 200 and json.loads(ack.body) == {"received": True}


def test_unpaid_session_is_pending(setup, build_notification):
    _, _, config = setup
    note = webhook(build_notification, session_completed(payment_status="unpaid"))
    assert StripeGateway().verify_notification(note, config)[0].kind == EventKind.PAYMENT_PENDING


def test_payment_intent_succeeded_shares_identity_with_session(setup, build_notification):
    _, _, config = setup
    event = {
        "id": "evt_2",
        "type": "payment_intent.succeeded",
        "created": T,
        "data": {
            "object": {
                "id": "pi_1",
                "amount_received": 500,
                "amount": 500,
                "currency": "jpy",
                "metadata": {"order_reference": "1001"},
            }
        },
    }
    [parsed] = StripeGateway().verify_notification(webhook(build_notification, event), config)
    assert (parsed.kind, parsed.provider_reference) == (EventKind.PAYMENT_SUCCEEDED, "pi_1")
    assert parsed.amount == Money(500, "JPY")


def charge_refunded(**charge):
    obj = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_1",
        "amount": 1999,
        "amount_refunded": 700,
        "currency": "usd",
        "metadata": {"order_reference": "1001"},
    }
    obj.update(charge)
    return {"id": "evt_3", "type": "charge.refunded", "created": T, "data": {"object": obj}}


def test_charge_refunded_with_refund_list(setup, build_notification):
    _, _, config = setup
    refunds = {
        "data": [
            {"id": "re_2", "amount": 200, "currency": "usd", "status": "succeeded"},
            {"id": "re_1", "amount": 500, "currency": "usd", "status": "succeeded"},
            {"id": "re_3", "amount": 100, "currency": "usd", "status": "pending"},
        ]
    }
    events = StripeGateway().verify_notification(
        webhook(build_notification, charge_refunded(refunds=refunds)), config
    )
    assert [(e.provider_reference, e.amount.amount) for e in events] == [
        ("re_2", 200),
        ("re_1", 500),
    ]
    assert {e.kind for e in events} == {EventKind.REFUND_SUCCEEDED}
    assert {e.payment_reference for e in events} == {"pi_1"}
    assert not any(e.cumulative for e in events)


def test_charge_refunded_without_list_reports_running_total(setup, build_notification):
    _, _, config = setup
    [event] = StripeGateway().verify_notification(
        webhook(build_notification, charge_refunded()), config
    )
    assert event.cumulative and event.amount == Money(700, "USD")
    assert event.provider_reference == "ch_1:refunded:700"
    assert event.order_reference == "1001"


def test_other_event_types_are_ignored(setup, build_notification):
    _, _, config = setup
    event = {
        "id": "evt_9",
        "type": "customer.created",
        "created": T,
        "data": {"object": {"id": "cus_1"}},
    }
    assert StripeGateway().verify_notification(webhook(build_notification, event), config) == []


def test_tampered_body(setup, build_notification):
    _, _, config = setup
    note = webhook(build_notification, session_completed())
    forged = replace(note, body=note.body.replace(b"1999", b"1"))
    with pytest.raises(VerificationError, match="no matching"):
        StripeGateway().verify_notification(forged, config)


def test_wrong_secret(setup, build_notification):
    _, _, config = setup
    note = webhook(build_notification, session_completed(), secret="whsec_other")
    with pytest.raises(VerificationError):
        StripeGateway().verify_notification(note, config)


@pytest.mark.parametrize("skew", [301, -301, 10_000])
def test_stale_and_future_timestamps(setup, build_notification, skew):
    _, _, config = setup
    note = webhook(build_notification, session_completed(), received_skew=skew)
    with pytest.raises(VerificationError, match="too"):
        StripeGateway().verify_notification(note, config)


@pytest.mark.parametrize("skew", [299, -299])
def test_within_tolerance(setup, build_notification, skew):
    _, _, config = setup
    note = webhook(build_notification, session_completed(), received_skew=skew)
    assert StripeGateway().verify_notification(note, config)


def test_configurable_tolerance(setup, build_notification):
    _, _, config = setup
    note = webhook(build_notification, session_completed(), received_skew=100)
    with pytest.raises(VerificationError):
        StripeGateway().verify_notification(note, {**config, "tolerance_seconds": "60"})
    with pytest.raises(ConfigError):
        StripeGateway().validate_config({**config, "tolerance_seconds": "-1"})


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=1714564800",
        "v1=abc",
        "t=x,v1=abc",
        "t=1714564800,t=1714564800,v1=abc",
        "v0=abc,t=1714564800",
    ],
)
def test_malformed_header(setup, build_notification, header):
    _, _, config = setup
    note = build_notification(b"{}", headers={"Stripe-Signature": header})
    with pytest.raises(VerificationError):
        StripeGateway().verify_notification(note, config)


def test_replayed_shape_signed_for_another_body(setup, build_notification):
    # A valid (t, v1) pair lifted from one event and attached to another body.
    _, _, config = setup
    first = webhook(build_notification, session_completed())
    other = json.dumps(session_completed(amount_total=1)).encode()
    note = build_notification(other, headers=dict(first.headers))
    with pytest.raises(VerificationError):
        StripeGateway().verify_notification(note, config)


@pytest.mark.parametrize("secret", [None, ""])
def test_missing_webhook_secret_fails_closed(setup, build_notification, secret):
    _, _, config = setup
    # Signed with an empty key, which a fail-open check would accept.
    note = webhook(build_notification, session_completed(), secret="")
    with pytest.raises(ConfigError):
        StripeGateway().verify_notification(note, {**config, "webhook_secret": secret})


def test_unreadable_currency_in_authentic_event(setup, build_notification):
    _, _, config = setup
    note = webhook(build_notification, session_completed(currency="us dollar"))
    with pytest.raises(VerificationError, match="unreadable"):
        StripeGateway().verify_notification(note, config)


def test_full_and_partial_refunds(setup):
    api, server, config = setup
    api.captured["pi_1"] = 1999
    gateway = StripeGateway()
    part = gateway.refund(RefundRequest("pi_1", Money(500, "USD"), "1001", "rf-1"), config)
    assert (part.status, part.amount) == ("succeeded", Money(500, "USD"))
    sent = server.requests[-1]
    assert sent.form() == {
        "payment_intent": "pi_1",
        "amount": "500",
        "metadata[order_reference]": "1001",
    }
    assert sent.headers["Idempotency-Key"] == "rf-1"
    rest = gateway.refund(RefundRequest("pi_1", Money(1499, "USD"), "1001", "rf-2"), config)
    assert rest.amount == Money(1499, "USD")
    with pytest.raises(ProviderError, match="greater than charge"):
        gateway.refund(RefundRequest("pi_1", Money(1, "USD"), "1001", "rf-3"), config)


def test_bad_api_key_is_a_provider_error_without_the_key(setup, build_request):
    _, _, config = setup
    with pytest.raises(ProviderError) as info:
        StripeGateway().start_payment(
            build_request(Money(1, "USD")), {**config, "secret_key": "sk_test_wrong"}
        )
    assert info.value.status == 401 and "sk_test_wrong" not in str(info.value)


def test_special_currency_units():
    assert to_stripe_amount(Money(500, "ISK")) == 50000
    assert from_stripe_amount(50000, "isk") == Money(500, "ISK")
    assert from_stripe_amount(500, "jpy") == Money(500, "JPY")
    assert from_stripe_amount(1230, "kwd") == Money(1230, "KWD")
    with pytest.raises(ValueError):
        from_stripe_amount(50001, "isk")
    with pytest.raises(ValueError):
        from_stripe_amount("500", "usd")


def test_form_encode():
    assert form_encode({"a": {"b": [{"c": 1}, True]}, "d": None, "e": "x"}) == [
        ("a[b][0][c]", "1"),
        ("a[b][1]", "true"),
        ("e", "x"),
    ]
