"""PayPal IPN against a local postback server that knows which messages are real."""

from urllib.parse import quote, urlencode

import pytest

from payments.errors import ConfigError, ProviderError, VerificationError
from payments.gateways.paypal import (
    SANDBOX_POSTBACK_URL,
    SANDBOX_WEBSCR_URL,
    PayPalGateway,
)
from payments.interfaces import EventKind
from payments.money import Money

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def setup(paypal):
    postback, server = paypal
    config = {
        "business_email": "Seller@Shop.example",
        "postback_url": f"{server.base_url}/cgi-bin/webscr",
    }
    return postback, server, config


def ipn(**overrides) -> dict:
    message = {
        "mc_gross": "19.95",
        "mc_currency": "USD",
        "payment_status": "Completed",
        "txn_id": "61E67681CH3238416",
        "txn_type": "web_accept",
        "invoice": "1001",
        "custom": "1001",
        "receiver_email": "seller@shop.example",
        "payer_email": "buyer@example.com",
        "charset": "utf-8",
        "first_name": "Zoë",
    }
    message.update(overrides)
    return message


def genuine(postback, build_notification, message):
    # PayPal's own encoding: the bytes must be posted back exactly.
    body = urlencode(message, quote_via=quote).encode()
    postback.genuine.add(body)
    return build_notification(body, headers=FORM)


def test_start_form(build_request):
    config = {"business_email": "seller@shop.example"}
    start = PayPalGateway().start_payment(build_request(Money(1995, "USD")), config)
    fields = dict(start.fields)
    assert start.kind == "form" and start.url == "https://www.paypal.com/cgi-bin/webscr"
    assert fields["amount"] == "19.95" and fields["currency_code"] == "USD"
    assert fields["invoice"] == "1001"
    assert fields["notify_url"] == "https://shop.example/payments/notify/x"


def test_round_trip(setup, build_notification):
    postback, server, config = setup
    note = genuine(postback, build_notification, ipn())
    gateway = PayPalGateway()
    [event] = gateway.verify_notification(note, config)
    assert server.requests[-1].body == b"cmd=_notify-validate&" + note.body
    assert event.kind == EventKind.PAYMENT_SUCCEEDED
    assert event.provider_reference == "61E67681CH3238416"
    assert event.order_reference == "1001"
    assert event.amount == Money(1995, "USD")
    assert event.raw["first_name"] == "Zoë"
    ack = gateway.acknowledge(note, [event])
    assert (ack.status, ack.body) == (200, b"")


def test_windows_1252_message(setup, build_notification):
    postback, _, config = setup
    body = (
        b"mc_gross=5.00&mc_currency=EUR&payment_status=Pending&txn_id=T1&invoice=9"
        b"&receiver_email=seller%40shop.example&charset=windows-1252&first_name=Zo%EB"
    )
    postback.genuine.add(body)
    [event] = PayPalGateway().verify_notification(build_notification(body, headers=FORM), config)
    assert event.kind == EventKind.PAYMENT_PENDING
    assert event.raw["first_name"] == "Zoë"


def test_refund_message(setup, build_notification):
    postback, _, config = setup
    message = ipn(
        payment_status="Refunded", mc_gross="-5.00", txn_id="R1", parent_txn_id="61E67681CH3238416"
    )
    [event] = PayPalGateway().verify_notification(
        genuine(postback, build_notification, message), config
    )
    assert event.kind == EventKind.REFUND_SUCCEEDED
    assert event.amount == Money(500, "USD")
    assert event.payment_reference == "61E67681CH3238416"


def test_forged_message_is_invalid(setup, build_notification):
    _, _, config = setup
    body = urlencode(ipn(mc_gross="0.01")).encode()
    with pytest.raises(VerificationError, match="INVALID"):
        PayPalGateway().verify_notification(build_notification(body, headers=FORM), config)


def test_tampered_genuine_message_is_invalid(setup, build_notification):
    postback, _, config = setup
    note = genuine(postback, build_notification, ipn())
    tampered = build_notification(note.body.replace(b"19.95", b"1.95"), headers=FORM)
    with pytest.raises(VerificationError):
        PayPalGateway().verify_notification(tampered, config)


def test_payment_to_another_account(setup, build_notification):
    postback, _, config = setup
    note = genuine(postback, build_notification, ipn(receiver_email="mallory@evil.example"))
    with pytest.raises(VerificationError, match="another PayPal account"):
        PayPalGateway().verify_notification(note, config)


def test_sandbox_message_refused_by_live_store(setup, build_notification):
    postback, _, config = setup
    note = genuine(postback, build_notification, ipn(test_ipn="1"))
    with pytest.raises(VerificationError, match="sandbox"):
        PayPalGateway().verify_notification(note, config)
    [event] = PayPalGateway().verify_notification(note, {**config, "accept_test_ipn": True})
    assert event.kind == EventKind.PAYMENT_SUCCEEDED


@pytest.mark.parametrize(
    ("field", "value"),
    [("mc_currency", "usd"), ("mc_currency", ""), ("mc_gross", "19.955"), ("mc_gross", "1,00")],
)
def test_unparseable_amount_or_currency(setup, build_notification, field, value):
    postback, _, config = setup
    note = genuine(postback, build_notification, ipn(**{field: value}))
    with pytest.raises(VerificationError, match="unreadable"):
        PayPalGateway().verify_notification(note, config)


def test_jpy_amount(setup, build_notification):
    postback, _, config = setup
    note = genuine(postback, build_notification, ipn(mc_gross="1500", mc_currency="JPY"))
    [event] = PayPalGateway().verify_notification(note, config)
    assert event.amount == Money(1500, "JPY")


def test_unknown_status_is_authentic_but_ignored(setup, build_notification):
    postback, _, config = setup
    note = genuine(postback, build_notification, ipn(payment_status="Canceled_Reversal"))
    assert PayPalGateway().verify_notification(note, config) == []


def test_postback_outage_is_retryable(serve, build_notification):
    server = serve(lambda req: (500, {}, b"oops"))
    config = {"business_email": "seller@shop.example", "postback_url": server.base_url}
    gateway = PayPalGateway()
    note = build_notification(urlencode(ipn()).encode(), headers=FORM)
    with pytest.raises(ProviderError) as info:
        gateway.verify_notification(note, config)
    assert gateway.acknowledge_error(note, info.value).status == 503


def test_missing_receiver_setting_fails_closed(setup, build_notification):
    postback, server, config = setup
    note = genuine(postback, build_notification, ipn())
    with pytest.raises(ConfigError):
        PayPalGateway().verify_notification(note, {**config, "business_email": ""})
    assert server.requests == []


def test_get_or_empty_is_refused(setup, build_notification):
    _, server, config = setup
    with pytest.raises(VerificationError):
        PayPalGateway().verify_notification(build_notification(b"", headers=FORM), config)
    assert server.requests == []


def test_help_texts_name_the_sandbox_urls():
    # Spelled out in the (translatable) help texts; they must not drift from the constants.
    helps = {field.name: field.help for field in PayPalGateway.config_schema}
    assert helps["webscr_url"] == f"Sandbox: {SANDBOX_WEBSCR_URL}"
    assert helps["postback_url"] == f"Sandbox: {SANDBOX_POSTBACK_URL}"
