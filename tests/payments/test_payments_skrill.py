"""Skrill: Quick Checkout form, status_url signatures, refunds through refund.pl."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode

import pytest

from payments.errors import ConfigurationError, ProviderError, VerificationError
from payments.gateways.skrill import SkrillGateway, md5sig
from payments.interfaces import EventKind, RefundRequest
from payments.money import Money
from tests.payments.profiles import SkrillProfile

EUR15 = Money(1500, "EUR")


@pytest.fixture
def skrill(serve):
    return SkrillProfile(serve)


def test_md5sig_is_the_documented_formula():
    params = {
        "merchant_id": "123456",
        "transaction_id": "A205220",
        "mb_amount": "30.59",
        "mb_currency": "GBP",
        "status": "2",
    }
    word = hashlib.md5(b"skrill").hexdigest().upper()
    base = f"123456A205220{word}30.59GBP2".encode()
    assert md5sig(params, "skrill") == hashlib.md5(base).hexdigest().upper()


def test_start_is_a_form_with_our_order_reference(skrill, build_request):
    start = SkrillGateway().start_payment(
        build_request(EUR15, locale="ru"),
        {**skrill.config(), "payment_url": "https://pay.skrill.com"},
    )
    fields = dict(start.fields)
    assert start.kind == "form" and start.url == "https://pay.skrill.com"
    assert fields["transaction_id"] == "1001" and fields["amount"] == "15.00"
    assert fields["currency"] == "EUR" and fields["language"] == "RU"
    assert fields["status_url"] == "https://shop.example/payments/notify/x"
    assert skrill.secret not in str(start)


@pytest.mark.parametrize(
    "status,kind",
    [
        ("2", EventKind.PAYMENT_SUCCEEDED),
        ("0", EventKind.PAYMENT_PENDING),
        ("-1", EventKind.PAYMENT_CANCELLED),
        ("-2", EventKind.PAYMENT_FAILED),
        ("-3", EventKind.REFUND_SUCCEEDED),
    ],
)
def test_statuses(skrill, status, kind):
    note = skrill.status("1001", EUR15, status=status).incoming()
    [event] = SkrillGateway().verify_notification(note, skrill.config())
    assert event.kind == kind and event.amount == EUR15 and event.order_reference == "1001"
    assert event.payment_reference == "mb1001"
    assert event.provider_reference == ("mb1001:chargeback" if status == "-3" else "mb1001")
    assert "md5sig" not in event.raw


def test_unknown_status_is_authentic_but_nothing_to_do(skrill):
    note = skrill.status("1001", EUR15, status="7").incoming()
    assert SkrillGateway().verify_notification(note, skrill.config()) == []


def with_changed(delivery, **changes):
    params = dict(parse_qsl(delivery.body.decode()))
    params.update(changes)
    return type(delivery)(urlencode(params).encode(), delivery.headers)


@pytest.mark.parametrize(
    "field,value",
    [
        ("transaction_id", "1002"),  # moved to another order
        ("mb_currency", "USD"),
        ("status", "2 "),
        ("md5sig", ""),
    ],
)
def test_tampered_signed_fields_are_refused(skrill, field, value):
    note = with_changed(skrill.status("1001", EUR15, status="2"), **{field: value})
    with pytest.raises(VerificationError):
        SkrillGateway().verify_notification(note.incoming(), skrill.config())


def test_unsigned_amount_is_never_read(skrill):
    # "amount"/"currency" are the shop's request, unsigned: only mb_* count.
    note = with_changed(skrill.paid("1001", EUR15), amount="0.01", currency="JPY")
    [event] = SkrillGateway().verify_notification(note.incoming(), skrill.config())
    assert event.amount == EUR15


@pytest.mark.parametrize(
    "field,value", [("pay_to_email", "thief@example.com"), ("merchant_id", "1111111")]
)
def test_other_account_is_refused(skrill, field, value):
    config = {**skrill.config(), field: value}
    with pytest.raises(VerificationError, match="another"):
        SkrillGateway().verify_notification(skrill.paid("1001", EUR15).incoming(), config)


def test_sha2_mode_requires_sha2sig(skrill):
    config = {**skrill.config(), "signature": "md5+sha2"}
    gateway = SkrillGateway()
    assert gateway.verify_notification(skrill.paid("1001", EUR15).incoming(), config)
    without = dict(parse_qsl(skrill.paid("1001", EUR15).body.decode()))
    del without["sha2sig"]
    note = type(skrill.paid("1", EUR15))(
        urlencode(without).encode(), skrill.paid("1", EUR15).headers
    )
    with pytest.raises(VerificationError, match="sha2sig"):
        gateway.verify_notification(note.incoming(), config)
    assert gateway.verify_notification(note.incoming(), skrill.config())  # md5 mode


def test_missing_secret_word_fails_closed(skrill):
    with pytest.raises(ConfigurationError):
        SkrillGateway().verify_notification(
            skrill.paid("1001", EUR15).incoming(), {**skrill.config(), "secret_word": ""}
        )


def refund_request(amount=EUR15, key="refund-1001-1"):
    return RefundRequest("mb1001", amount, "1001", key)


def test_partial_then_full_refund_against_the_local_api(skrill):
    skrill.paid("1001", EUR15)
    gateway = SkrillGateway()
    first = gateway.refund(refund_request(Money(500, "EUR")), skrill.config())
    assert first.status == "succeeded" and first.amount == Money(500, "EUR")
    prepare = skrill.provider.requests[0].form()
    assert prepare["password"] == hashlib.md5(b"skrill-mqi-pass").hexdigest()
    assert "skrill-mqi-pass" not in skrill.provider.requests[0].body.decode()
    assert prepare["refund_note"] == "refund-1001-1"
    second = gateway.refund(refund_request(Money(1000, "EUR"), "refund-1001-2"), skrill.config())
    assert second.provider_reference != first.provider_reference
    with pytest.raises(ProviderError, match="REFUND_AMOUNT_EXCEEDS"):
        gateway.refund(refund_request(Money(1, "EUR"), "refund-1001-3"), skrill.config())


@pytest.mark.parametrize(
    "change,error",
    [
        ({"api_password": "wrong"}, "LOGIN_INVALID"),
        ({"pay_to_email": "other@example.com"}, "LOGIN_INVALID"),
    ],
)
def test_refund_errors_are_provider_errors(skrill, change, error):
    skrill.paid("1001", EUR15)
    with pytest.raises(ProviderError, match=error) as info:
        SkrillGateway().refund(refund_request(), {**skrill.config(), **change})
    assert "wrong" not in str(info.value)


def test_refund_of_unknown_payment_and_without_password(skrill):
    with pytest.raises(ProviderError, match="TRANSACTION_NOT_FOUND"):
        SkrillGateway().refund(refund_request(), skrill.config())
    with pytest.raises(ConfigurationError):
        SkrillGateway().refund(refund_request(), {**skrill.config(), "api_password": ""})


def test_unreachable_refund_api_is_a_provider_error(skrill):
    config = {**skrill.config(), "refund_url": "http://127.0.0.1:9/app/refund.pl"}
    with pytest.raises(ProviderError):
        SkrillGateway().refund(refund_request(), config)
