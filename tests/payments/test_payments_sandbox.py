"""The demo gateway: signed page token, test cards, signed notification."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from payments.errors import ConfigurationError, VerificationError
from payments.gateways import sandbox
from payments.interfaces import EventKind
from payments.money import Money

CONFIG = {"page_url": "https://demo.shop.example/sandbox/pay", "secret": "store-secret"}


AMOUNT = Money(4200, "EUR")


def start_checkout(build_request):
    start = sandbox.SandboxGateway().start_payment(build_request(AMOUNT), CONFIG)
    assert start.kind == "redirect"
    url = urlsplit(start.url)
    assert url.netloc == "demo.shop.example" and url.path == "/sandbox/pay"
    token = parse_qs(url.query)["token"][0]
    return sandbox.verify_token(token, CONFIG["secret"], datetime.now(UTC)), token


def pay(checkout, card, build_notification, now=None):
    now = now or datetime.now(UTC)
    outcome = sandbox.charge_test_card(card)
    body, headers = sandbox.build_notification(checkout, outcome, CONFIG["secret"], now)
    return build_notification(body, headers=headers, received_at=now)


@pytest.mark.parametrize(
    ("card", "kind"),
    [
        ("4242 4242 4242 4242", EventKind.PAYMENT_SUCCEEDED),
        ("4000000000000002", EventKind.PAYMENT_FAILED),
        ("1234", EventKind.PAYMENT_FAILED),
    ],
)
def test_round_trip(build_request, build_notification, card, kind):
    checkout, _ = start_checkout(build_request)
    assert checkout.money == Money(4200, "EUR")
    assert checkout.return_url.endswith("/return")
    gateway = sandbox.SandboxGateway()
    note = pay(checkout, card, build_notification)
    [event] = gateway.verify_notification(note, CONFIG)
    assert event.kind == kind
    assert event.order_reference == "1001"
    assert event.amount == Money(4200, "EUR")
    assert event.provider_reference == checkout.payment_id(CONFIG["secret"])
    assert gateway.acknowledge(note, [event]).status == 200


def test_paying_twice_gives_the_same_payment_id(build_request, build_notification):
    checkout, _ = start_checkout(build_request)
    gateway = sandbox.SandboxGateway()
    card = "4242424242424242"
    first = gateway.verify_notification(pay(checkout, card, build_notification), CONFIG)
    again = gateway.verify_notification(pay(checkout, card, build_notification), CONFIG)
    assert first[0].provider_reference == again[0].provider_reference


def test_tampered_token_is_refused(build_request):
    _, token = start_checkout(build_request)
    payload, _, signature = token.rpartition(".")
    with pytest.raises(VerificationError):
        sandbox.verify_token(payload + "x." + signature, CONFIG["secret"], datetime.now(UTC))
    with pytest.raises(VerificationError):
        sandbox.verify_token(token, "other-store-secret", datetime.now(UTC))
    with pytest.raises(VerificationError):
        sandbox.verify_token(token, "", datetime.now(UTC))


def test_expired_token_is_refused(build_request):
    _, token = start_checkout(build_request)
    later = datetime.now(UTC) + timedelta(seconds=sandbox.TOKEN_TTL + 5)
    with pytest.raises(VerificationError, match="expired"):
        sandbox.verify_token(token, CONFIG["secret"], later)


def test_token_cannot_pass_as_notification(build_request, build_notification):
    checkout, token = start_checkout(build_request)
    now = datetime.now(UTC)
    body, _ = sandbox.build_notification(checkout, "succeeded", CONFIG["secret"], now)
    mac = token.rpartition(".")[2]
    note = build_notification(
        body,
        headers={sandbox.SIGNATURE_HEADER: f"t={int(now.timestamp())},v1={mac}"},
        received_at=now,
    )
    with pytest.raises(VerificationError):
        sandbox.SandboxGateway().verify_notification(note, CONFIG)


def test_tampered_amount_is_refused(build_request, build_notification):
    checkout, _ = start_checkout(build_request)
    note = pay(checkout, "4242424242424242", build_notification)
    data = json.loads(note.body)
    data["amount"] = 1
    forged = build_notification(
        json.dumps(data).encode(), headers=dict(note.headers), received_at=note.received_at
    )
    with pytest.raises(VerificationError, match="signature"):
        sandbox.SandboxGateway().verify_notification(forged, CONFIG)


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_and_future_notifications_are_refused(build_request, build_notification, skew):
    checkout, _ = start_checkout(build_request)
    signed_at = datetime.now(UTC)
    body, headers = sandbox.build_notification(checkout, "succeeded", CONFIG["secret"], signed_at)
    note = build_notification(
        body, headers=headers, received_at=signed_at + timedelta(seconds=skew)
    )
    with pytest.raises(VerificationError, match="too"):
        sandbox.SandboxGateway().verify_notification(note, CONFIG)


@pytest.mark.parametrize("header", ["", "t=1", "v1=ab", "t=abc,v1=ab", "garbage"])
def test_malformed_signature_header(build_notification, header):
    note = build_notification(b"{}", headers={sandbox.SIGNATURE_HEADER: header})
    with pytest.raises(VerificationError):
        sandbox.SandboxGateway().verify_notification(note, CONFIG)


@pytest.mark.parametrize("secret", [None, ""])
def test_missing_secret_fails_closed(build_request, build_notification, secret):
    checkout, _ = start_checkout(build_request)
    note = pay(checkout, "4242424242424242", build_notification)
    config = {**CONFIG, "secret": secret}
    with pytest.raises(ConfigurationError):
        sandbox.SandboxGateway().verify_notification(note, config)
