"""YooKassa against a local API server: sender IP check, then re-fetch."""

import json

import pytest

from payments.errors import ConfigError, ProviderError, VerificationError
from payments.gateways.yookassa import YooKassaGateway, address_allowed
from payments.interfaces import EventKind, RefundRequest
from payments.money import Money

YOOKASSA_IP = "185.71.76.5"


@pytest.fixture
def setup(yookassa):
    api, server = yookassa
    config = {"shop_id": "123456", "secret_key": "test_secret", "api_base": server.base_url}
    return api, server, config


def notify(build_notification, object_id, event="payment.succeeded", ip=YOOKASSA_IP):
    body = json.dumps(
        {"type": "notification", "event": event, "object": {"id": object_id, "status": "succeeded"}}
    ).encode()
    return build_notification(body, headers={"Content-Type": "application/json"}, remote_addr=ip)


def test_round_trip(setup, build_request, build_notification):
    api, server, config = setup
    gateway = YooKassaGateway()
    start = gateway.start_payment(build_request(Money(150050, "RUB")), config)
    created = server.requests[-1]
    assert created.headers["Idempotence-Key"] == "order-1001-attempt-1"
    assert json.loads(created.body)["amount"] == {"value": "1500.50", "currency": "RUB"}
    assert start.kind == "redirect" and start.url.startswith("https://yoomoney.ru/")
    payment_id = start.provider_reference

    # The notification claims success while the payment is still pending:
    # only the API's answer counts.
    [event] = gateway.verify_notification(notify(build_notification, payment_id), config)
    assert event.kind == EventKind.PAYMENT_PENDING
    assert server.requests[-1].method == "GET"
    assert server.requests[-1].path == f"/v3/payments/{payment_id}"

    api.payments[payment_id].update(
        status="succeeded", paid=True, captured_at="2024-05-01T12:01:00.000Z"
    )
    [event] = gateway.verify_notification(notify(build_notification, payment_id), config)
    assert event.kind == EventKind.PAYMENT_SUCCEEDED
    assert event.order_reference == "1001"
    assert event.amount == Money(150050, "RUB")
    assert event.occurred_at.isoformat() == "2024-05-01T12:01:00+00:00"
    assert gateway.acknowledge(notify(build_notification, payment_id), [event]).status == 200


def test_retried_start_is_idempotent(setup, build_request):
    api, _, config = setup
    gateway = YooKassaGateway()
    first = gateway.start_payment(build_request(Money(100, "RUB")), config)
    again = gateway.start_payment(build_request(Money(100, "RUB")), config)
    assert first.provider_reference == again.provider_reference
    assert len(api.payments) == 1


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("expired_on_confirmation", EventKind.PAYMENT_CANCELLED),
        ("insufficient_funds", EventKind.PAYMENT_FAILED),
    ],
)
def test_canceled_payments(setup, build_request, build_notification, reason, kind):
    api, _, config = setup
    gateway = YooKassaGateway()
    payment_id = gateway.start_payment(build_request(Money(100, "RUB")), config).provider_reference
    api.payments[payment_id].update(
        status="canceled", cancellation_details={"party": "x", "reason": reason}
    )
    note = notify(build_notification, payment_id, event="payment.canceled")
    assert [e.kind for e in gateway.verify_notification(note, config)] == [kind]


@pytest.mark.parametrize(
    "ip", ["203.0.113.9", "127.0.0.1", "", "not-an-ip", "185.71.76.32", "77.75.156.12"]
)
def test_foreign_sender_is_refused_before_any_call(setup, build_notification, ip):
    _, server, config = setup
    with pytest.raises(VerificationError, match="not YooKassa"):
        YooKassaGateway().verify_notification(notify(build_notification, "abc", ip=ip), config)
    assert server.requests == []


@pytest.mark.parametrize(
    "ip",
    [
        "185.71.77.31",
        "77.75.153.127",
        "77.75.156.11",
        "77.75.154.200",
        "2a02:5180::1",
        "::ffff:185.71.76.1",
    ],
)
def test_published_ranges(ip):
    assert address_allowed(ip, YooKassaGateway.config_schema[3].default)


def test_forged_id_is_unknown_to_the_api(setup, build_notification):
    _, _, config = setup
    with pytest.raises(VerificationError, match="does not know"):
        YooKassaGateway().verify_notification(
            notify(build_notification, "2d1b6b8e-000f-5000-9000-1f7b8c1b9e3a"), config
        )


@pytest.mark.parametrize("object_id", ["../refunds/x", "a/b", "x?y=1", ""])
def test_malformed_object_id(setup, build_notification, object_id):
    _, server, config = setup
    with pytest.raises(VerificationError):
        YooKassaGateway().verify_notification(notify(build_notification, object_id), config)
    assert server.requests == []


def test_wrong_credentials_are_a_provider_error(setup, build_notification):
    _, _, config = setup
    with pytest.raises(ProviderError, match="401"):
        YooKassaGateway().verify_notification(
            notify(build_notification, "abc"), {**config, "secret_key": "wrong"}
        )


@pytest.mark.parametrize("secret", [None, ""])
def test_missing_secret_fails_closed(setup, build_notification, secret):
    _, server, config = setup
    with pytest.raises(ConfigError):
        YooKassaGateway().verify_notification(
            notify(build_notification, "abc"), {**config, "secret_key": secret}
        )
    assert server.requests == []


def test_refund_and_refund_notification(setup, build_request, build_notification):
    _, server, config = setup
    gateway = YooKassaGateway()
    started = gateway.start_payment(build_request(Money(10000, "RUB")), config)
    payment_id = started.provider_reference
    result = gateway.refund(
        RefundRequest(payment_id, Money(2500, "RUB"), "1001", "refund-1"), config
    )
    assert server.requests[-1].path == "/v3/refunds"
    assert server.requests[-1].headers["Idempotence-Key"] == "refund-1"
    assert json.loads(server.requests[-1].body)["payment_id"] == payment_id
    assert (result.status, result.amount) == ("succeeded", Money(2500, "RUB"))

    note = notify(build_notification, result.provider_reference, event="refund.succeeded")
    [event] = gateway.verify_notification(note, config)
    assert event.kind == EventKind.REFUND_SUCCEEDED
    assert event.provider_reference == result.provider_reference
    assert event.payment_reference == payment_id
    assert event.amount == Money(2500, "RUB")


def test_bad_network_setting(setup):
    _, _, config = setup
    with pytest.raises(ConfigError) as info:
        YooKassaGateway().validate_config({**config, "allowed_networks": "10.0.0.0/33"})
    assert "allowed_networks" in info.value.errors
