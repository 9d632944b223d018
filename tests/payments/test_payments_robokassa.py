"""Robokassa: the published MD5 vector, start form, ResultURL verification."""

import hashlib
from urllib.parse import urlencode

import pytest

from payments.errors import ConfigError, NotSupported, VerificationError
from payments.gateways.robokassa import RobokassaGateway, signature
from payments.interfaces import EventKind
from payments.money import Money

CONFIG = {"merchant_login": "demo_shop", "password1": "pass_one", "password2": "pass_two"}


def test_published_md5_vector():
    # From Robokassa's documentation (see /work/shared/REFERENCES.md).
    digest = signature("md5", "500", "123", "secret", shp={"shpa": "123", "shpMySuperParam": "456"})
    assert digest == "4a827a06c6e54595c2bd8f67fb7a0091"


@pytest.mark.parametrize("algorithm", ["md5", "sha256", "sha512"])
def test_algorithms(algorithm):
    expected = hashlib.new(algorithm, b"1.00:5:pw").hexdigest()
    assert signature(algorithm, "1.00", "5", "pw") == expected


def result_url(out_sum="500.000000", inv_id="1001", password="pass_two", algorithm="md5", **shp):
    sig = signature(algorithm, out_sum, inv_id, password, shp=shp)
    return {
        "OutSum": out_sum,
        "InvId": inv_id,
        "SignatureValue": sig.upper(),
        "Fee": "12.50",
        "EMail": "buyer@example.com",
        **shp,
    }


def post(build_notification, params):
    return build_notification(
        urlencode(params).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def test_start_form_signature(build_request):
    start = RobokassaGateway().start_payment(build_request(Money(50000, "RUB")), CONFIG)
    fields = dict(start.fields)
    assert start.kind == "form"
    assert start.url == "https://auth.robokassa.ru/Merchant/Index.aspx"
    assert fields["OutSum"] == "500.00" and fields["InvId"] == "1001"
    expected = hashlib.md5(b"demo_shop:500.00:1001:pass_one").hexdigest()
    assert fields["SignatureValue"] == expected
    assert "IsTest" not in fields


def test_test_mode_uses_test_passwords(build_request):
    config = {**CONFIG, "test_mode": True, "test_password1": "t1", "test_password2": "t2"}
    start = RobokassaGateway().start_payment(build_request(Money(100, "RUB")), config)
    fields = dict(start.fields)
    assert fields["IsTest"] == "1"
    assert fields["SignatureValue"] == hashlib.md5(b"demo_shop:1.00:1001:t1").hexdigest()


def test_test_mode_without_test_passwords_is_a_config_error(build_request):
    with pytest.raises(ConfigError) as info:
        RobokassaGateway().start_payment(
            build_request(Money(100, "RUB")), {**CONFIG, "test_mode": "1"}
        )
    assert set(info.value.errors) == {"test_password1", "test_password2"}


def test_refuses_other_currencies_and_non_numeric_references(build_request):
    with pytest.raises(NotSupported):
        RobokassaGateway().start_payment(build_request(Money(100, "USD")), CONFIG)
    with pytest.raises(NotSupported):
        RobokassaGateway().start_payment(build_request(Money(100, "RUB"), "A-1"), CONFIG)


@pytest.mark.parametrize("algorithm", ["md5", "sha256", "sha512"])
def test_result_url_round_trip(build_notification, algorithm):
    params = result_url(algorithm=algorithm, Shp_b="2", Shp_a="x y")
    gateway = RobokassaGateway()
    note = post(build_notification, params)
    [event] = gateway.verify_notification(note, {**CONFIG, "hash_algorithm": algorithm})
    assert event.kind == EventKind.PAYMENT_SUCCEEDED
    assert event.order_reference == "1001" == event.provider_reference
    assert event.amount == Money(50000, "RUB")
    ack = gateway.acknowledge(note, [event])
    assert (ack.status, ack.body) == (200, b"OK1001")


def test_result_url_by_get(build_notification):
    note = build_notification(method="GET", query_string=urlencode(result_url()))
    [event] = RobokassaGateway().verify_notification(note, CONFIG)
    assert event.amount == Money(50000, "RUB")


def test_received_out_sum_is_signed_verbatim(build_notification):
    # "500.000000" and "500.00" are the same money but different signed strings.
    params = result_url(out_sum="500.000000")
    params["OutSum"] = "500.00"
    with pytest.raises(VerificationError):
        RobokassaGateway().verify_notification(post(build_notification, params), CONFIG)


@pytest.mark.parametrize(
    "field,value", [("OutSum", "5000.000000"), ("InvId", "1002"), ("Shp_a", "other")]
)
def test_tampered_result_url(build_notification, field, value):
    params = result_url(Shp_a="1")
    params[field] = value
    with pytest.raises(VerificationError):
        RobokassaGateway().verify_notification(post(build_notification, params), CONFIG)


def test_signed_with_password1_is_refused(build_notification):
    params = result_url(password="pass_one")
    with pytest.raises(VerificationError):
        RobokassaGateway().verify_notification(post(build_notification, params), CONFIG)


def test_missing_parameters(build_notification):
    params = result_url()
    del params["SignatureValue"]
    with pytest.raises(VerificationError, match="missing"):
        RobokassaGateway().verify_notification(post(build_notification, params), CONFIG)


def test_unreadable_amount_with_valid_signature(build_notification):
    params = result_url(out_sum="500,5")
    with pytest.raises(VerificationError, match="OutSum"):
        RobokassaGateway().verify_notification(post(build_notification, params), CONFIG)


@pytest.mark.parametrize("password2", [None, "", "   "])
def test_missing_password2_fails_closed(build_notification, password2):
    # Even a notification "signed" with an empty password must not pass.
    params = result_url(password="" if password2 is None else password2)
    gateway = RobokassaGateway()
    note = post(build_notification, params)
    with pytest.raises(ConfigError):
        gateway.verify_notification(note, {**CONFIG, "password2": password2})
    ack = gateway.acknowledge_error(note, ConfigError({"password2": "required"}))
    assert ack.status == 503 and b"OK" not in ack.body


def test_error_answer_is_not_ok(build_notification):
    ack = RobokassaGateway().acknowledge_error(
        post(build_notification, {}), VerificationError("bad")
    )
    assert ack.status == 400 and ack.body == b"bad sign"
