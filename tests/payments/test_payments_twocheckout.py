"""2Checkout (Verifone): the published IPN vector, the buy link, IPN answers, refunds."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from payments.errors import ConfigurationError, ProviderError, VerificationError
from payments.gateways.twocheckout import TwoCheckoutGateway, epayment_answer, serialize
from payments.interfaces import EventKind, RefundRequest
from payments.money import Money
from payments.testing.profile import Delivery
from tests.payments.profiles import TwoCheckoutProfile

EUR15 = Money(1500, "EUR")
WHEN = datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)


@pytest.fixture
def tco(serve):
    return TwoCheckoutProfile(serve)


def test_published_answer_vector():
    # REFERENCES.md: HMAC-MD5, key AABBCCDDEEFF.
    source = serialize(["1", "Software program", "20050303123434", "20050303123434"])
    assert source == b"1116Software program14200503031234341420050303123434"
    pairs = [
        ("IPN_PID[]", "1"),
        ("IPN_PNAME[]", "Software program"),
        ("IPN_DATE", "20050303123434"),
    ]
    assert epayment_answer("md5", "AABBCCDDEEFF", pairs, "20050303123434") == (
        b"<EPAYMENT>20050303123434|7bf97ed39681027d0c45aa45e3ea98f0</EPAYMENT>"
    )


def test_lengths_are_bytes_not_characters():
    assert serialize(["\u2116"]) == b"3\xe2\x84\x96"


def test_buy_link_is_signed(tco, build_request):
    start = TwoCheckoutGateway().start_payment(build_request(EUR15), tco.config())
    url = urlsplit(start.url)
    params = dict(parse_qsl(url.query))
    assert start.kind == "redirect" and url.netloc == "secure.2checkout.com"
    assert params["order-ext-ref"] == "1001" and params["price"] == "15.00"
    signed = [
        params[k]
        for k in sorted(params)
        if k not in ("merchant", "dynamic", "language", "email", "signature")
    ]
    expected = hmac.new(b"2co-buy-link-word", serialize(signed), hashlib.sha256).hexdigest()
    assert params["signature"] == expected
    assert "test" not in params


@pytest.mark.parametrize("algo", ["md5", "sha256"])
def test_ipn_round_trip_and_answer(tco, algo):
    gateway = TwoCheckoutGateway()
    note = tco.ipn("1001", EUR15, algo=algo).incoming(WHEN)
    [event] = gateway.verify_notification(note, {**tco.config(), "ipn_algorithm": algo})
    assert event.kind == EventKind.PAYMENT_SUCCEEDED and event.amount == EUR15
    assert event.order_reference == "1001" and event.provider_reference == "700001001"
    ack = gateway.acknowledge(note, [event])
    first = ["1", "Order \u2116 1001", "20240501120000", "20240501120001"]
    digest = hmac.new(b"2co-secret-key", serialize(first), getattr(hashlib, algo)).hexdigest()
    if algo == "md5":
        assert ack.body == f"<EPAYMENT>20240501120001|{digest}</EPAYMENT>".encode()
    else:
        assert ack.body == f'<sig algo="sha256" date="20240501120001">{digest}</sig>'.encode()


def test_answer_only_for_the_verified_notification(tco):
    gateway = TwoCheckoutGateway()
    note = tco.paid("1001", EUR15).incoming(WHEN)
    events = gateway.verify_notification(note, tco.config())
    other = tco.paid("1001", EUR15).incoming(WHEN)  # equal, but not the verified object
    assert gateway.acknowledge(other, events).body == b""
    assert gateway.acknowledge(note, events).body.startswith(b"<EPAYMENT>")


def test_field_order_is_signed(tco):
    pairs = parse_qsl(tco.paid("1001", EUR15).body.decode())
    pairs[0], pairs[1] = pairs[1], pairs[0]
    with pytest.raises(VerificationError):
        TwoCheckoutGateway().verify_notification(
            Delivery(
                urlencode(pairs).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
            ).incoming(),
            tco.config(),
        )


def test_sha256_mode_refuses_md5_only_ipn(tco):
    with pytest.raises(VerificationError, match="SIGNATURE_SHA2_256"):
        TwoCheckoutGateway().verify_notification(
            tco.paid("1001", EUR15).incoming(), {**tco.config(), "ipn_algorithm": "sha256"}
        )


@pytest.mark.parametrize(
    "status,kind,reference",
    [
        ("PAYMENT_AUTHORIZED", EventKind.PAYMENT_PENDING, "700001001"),
        ("CANCELED", EventKind.PAYMENT_CANCELLED, "700001001"),
        ("REFUND", EventKind.REFUND_SUCCEEDED, "700001001:refund"),
    ],
)
def test_statuses(tco, status, kind, reference):
    [event] = TwoCheckoutGateway().verify_notification(
        tco.ipn("1001", EUR15, status=status).incoming(), tco.config()
    )
    assert (event.kind, event.provider_reference, event.payment_reference) == (
        kind,
        reference,
        "700001001",
    )


def test_status_we_do_not_use_still_gets_its_answer(tco):
    gateway = TwoCheckoutGateway()
    note = tco.ipn("1001", EUR15, status="TEST").incoming()
    assert gateway.verify_notification(note, tco.config()) == []
    assert gateway.acknowledge(note, []).body.startswith(b"<EPAYMENT>")


def test_missing_key_fails_closed(tco):
    with pytest.raises(ConfigurationError):
        TwoCheckoutGateway().verify_notification(
            tco.paid("1001", EUR15).incoming(), {**tco.config(), "secret_key": ""}
        )


def refund(amount=EUR15):
    return RefundRequest("700001001", amount, "1001", "refund-1001-1")


def test_refund_is_pending_until_its_ipn(tco):
    tco.paid("1001", EUR15)
    result = TwoCheckoutGateway().refund(refund(), tco.config())
    assert (result.status, result.provider_reference, result.amount) == (
        "pending",
        "700001001:refund",
        EUR15,
    )
    sent = tco.provider.requests[-1]
    assert sent.path == "/rest/6.0/orders/700001001/refund/"
    assert sent.json()["amount"] == "15.00" and "2co-secret-key" not in str(sent.headers)
    [event] = TwoCheckoutGateway().verify_notification(
        tco.ipn("1001", EUR15, status="REFUND").incoming(), tco.config()
    )
    assert event.provider_reference == result.provider_reference  # settles the pending refund


@pytest.mark.parametrize(
    "config,amount,error",
    [
        ({"secret_key": "wrong-key"}, EUR15, "AUTHENTICATION_ERROR"),
        ({}, Money(500, "EUR"), "INVALID_AMOUNT"),
    ],
)
def test_refund_errors(tco, config, amount, error):
    tco.paid("1001", EUR15)
    with pytest.raises(ProviderError, match=error):
        TwoCheckoutGateway().refund(refund(amount), {**tco.config(), **config})


def test_refund_twice_and_unknown_order(tco):
    tco.paid("1001", EUR15)
    TwoCheckoutGateway().refund(refund(), tco.config())
    with pytest.raises(ProviderError, match="ALREADY_REFUNDED"):
        TwoCheckoutGateway().refund(refund(), tco.config())
    with pytest.raises(ProviderError, match="ORDER_NOT_FOUND"):
        TwoCheckoutGateway().refund(RefundRequest("1", EUR15, "1", "k"), tco.config())
