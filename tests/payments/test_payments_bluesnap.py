"""BlueSnap: hosted checkout token, IPN by sender address + API re-check, refunds."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from payments.errors import ConfigError, ConfigurationError, ProviderError, VerificationError
from payments.gateways.bluesnap import ENVIRONMENTS, BlueSnapGateway
from payments.interfaces import EventKind, RefundRequest
from payments.money import Money
from tests.payments.profiles import BlueSnapProfile

EUR15 = Money(1500, "EUR")


@pytest.fixture
def bs(serve):
    return BlueSnapProfile(serve)


def test_start_creates_a_checkout_token(bs, build_request):
    start = BlueSnapGateway().start_payment(build_request(EUR15), bs.config())
    url = urlsplit(start.url)
    assert start.kind == "redirect" and url.netloc == "sandpay.bluesnap.com"
    assert parse_qs(url.query)["jwt"] == ["jwt-1001"]
    sent = bs.provider.requests[-1]
    assert sent.json()["amount"] == "15.00" and sent.json()["merchantTransactionId"] == "1001"
    assert sent.headers["Idempotency-Key"] == "order-1001-attempt-1"


def test_start_with_wrong_credentials(bs, build_request):
    with pytest.raises(ProviderError, match="10001"):
        BlueSnapGateway().start_payment(build_request(EUR15), {**bs.config(), "api_password": "x"})


@pytest.mark.parametrize(
    "status,kind",
    [
        ("success", EventKind.PAYMENT_SUCCEEDED),
        ("pending", EventKind.PAYMENT_PENDING),
        ("fail", EventKind.PAYMENT_FAILED),
    ],
)
def test_charge_is_read_from_the_api(bs, status, kind):
    bs.api.add("1000001001", "15.00", "EUR", "1001", status=status)
    [event] = BlueSnapGateway().verify_notification(bs.ipn("1001", EUR15).incoming(), bs.config())
    assert (event.kind, event.amount, event.order_reference) == (kind, EUR15, "1001")
    assert event.provider_reference == "1000001001"


def test_amount_in_the_ipn_is_ignored(bs):
    bs.paid("1001", EUR15)
    note = bs.ipn("1001", EUR15, sent=Money(1, "EUR")).incoming()
    [event] = BlueSnapGateway().verify_notification(note, bs.config())
    assert event.amount == EUR15


@pytest.mark.parametrize("sender", ["203.0.113.5", "", "not-an-ip", "10.0.0.1"])
def test_other_senders_are_refused_before_any_api_call(bs, sender):
    bs.paid("1001", EUR15)
    calls = len(bs.provider.requests)
    note = bs.ipn("1001", EUR15).incoming()
    note = type(note)(**{**note.__dict__, "remote_addr": sender})
    with pytest.raises(VerificationError, match="not BlueSnap"):
        BlueSnapGateway().verify_notification(note, bs.config())
    assert len(bs.provider.requests) == calls


def test_published_addresses_are_the_default(bs):
    config = {**bs.config(), "allowed_networks": "", "environment": "production"}
    note = bs.paid("1001", EUR15).incoming()
    published = ENVIRONMENTS["production"]["networks"].split()[0]
    ok = type(note)(**{**note.__dict__, "remote_addr": published})
    assert BlueSnapGateway().verify_notification(ok, config)
    sandbox_sender = ENVIRONMENTS["sandbox"]["networks"].split()[0]
    with pytest.raises(VerificationError):
        BlueSnapGateway().verify_notification(
            type(note)(**{**note.__dict__, "remote_addr": sandbox_sender}), config
        )


def test_bad_address_list_is_a_config_error(bs):
    with pytest.raises(ConfigError):
        BlueSnapGateway().validate_config({**bs.config(), "allowed_networks": "10.0.0.0/33"})


def test_unknown_transaction_is_forged_and_api_errors_retry(bs):
    with pytest.raises(VerificationError, match="does not know"):
        BlueSnapGateway().verify_notification(bs.forged("1001", EUR15).incoming(), bs.config())
    bs.paid("1001", EUR15)
    with pytest.raises(ProviderError):  # our credentials are wrong: 503, BlueSnap resends
        BlueSnapGateway().verify_notification(
            bs.paid("1001", EUR15).incoming(), {**bs.config(), "api_password": "x"}
        )
    with pytest.raises(ConfigurationError):
        BlueSnapGateway().verify_notification(
            bs.paid("1001", EUR15).incoming(), {**bs.config(), "api_password": ""}
        )


def test_other_ipn_types_are_acknowledged_without_events(bs):
    note = bs.ipn("1001", EUR15, kind="SUBSCRIPTION_CHARGE_FAILURE").incoming()
    assert BlueSnapGateway().verify_notification(note, bs.config()) == []
    assert BlueSnapGateway().acknowledge(note, []).status == 200


def test_partial_refunds_then_refund_ipn_lists_them(bs):
    bs.paid("1001", EUR15)
    gateway = BlueSnapGateway()
    first = gateway.refund(
        RefundRequest("1000001001", Money(500, "EUR"), "1001", "r-1"), bs.config()
    )
    assert first.status == "succeeded" and first.amount == Money(500, "EUR")
    again = gateway.refund(
        RefundRequest("1000001001", Money(500, "EUR"), "1001", "r-1"), bs.config()
    )
    assert again.provider_reference == first.provider_reference  # same key, same refund
    gateway.refund(RefundRequest("1000001001", Money(1000, "EUR"), "1001", "r-2"), bs.config())
    with pytest.raises(ProviderError, match="14015"):
        gateway.refund(RefundRequest("1000001001", Money(1, "EUR"), "1001", "r-3"), bs.config())
    note = bs.ipn("1001", EUR15, kind="REFUND").incoming()
    events = gateway.verify_notification(note, bs.config())
    assert [(e.kind, e.amount.amount) for e in events] == [
        (EventKind.REFUND_SUCCEEDED, 500),
        (EventKind.REFUND_SUCCEEDED, 1000),
    ]
    assert events[0].provider_reference == first.provider_reference


def test_refund_of_unknown_transaction(bs):
    with pytest.raises(ProviderError, match="14016"):
        BlueSnapGateway().refund(RefundRequest("123", EUR15, "1", "k"), bs.config())
