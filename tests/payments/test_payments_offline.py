import pytest

from payments.errors import ConfigError, NotSupported
from payments.gateways.cod import CashOnDeliveryGateway
from payments.gateways.manual import ManualGateway
from payments.interfaces import RefundRequest
from payments.money import Money


def test_bank_transfer_shows_instructions(build_request):
    config = {"instructions": "IBAN DE00 1234, reference {order_reference}, {amount}"}
    start = ManualGateway().start_payment(build_request(Money(1250, "EUR"), "A-7"), config)
    assert start.kind == "offline"
    assert start.instructions == "IBAN DE00 1234, reference A-7, 12.50 EUR"


def test_instructions_cannot_reach_python_attributes(build_request):
    config = {"instructions": "{amount.__class__} {0} {order_reference}"}
    start = ManualGateway().start_payment(build_request(Money(1, "EUR"), "7"), config)
    assert start.instructions == "{amount.__class__} {0} 7"


def test_bank_transfer_requires_instructions(build_request):
    with pytest.raises(ConfigError) as info:
        ManualGateway().start_payment(build_request(Money(1, "EUR")), {})
    assert "instructions" in info.value.errors


def test_cash_on_delivery_default_text(build_request):
    start = CashOnDeliveryGateway().start_payment(build_request(Money(500, "JPY")), {})
    assert start.instructions == "Please pay 500 JPY to the courier on delivery."


@pytest.mark.parametrize("gateway", [ManualGateway(), CashOnDeliveryGateway()])
def test_offline_methods_have_no_notifications_or_refunds(gateway, build_notification):
    assert gateway.capabilities.offline and not gateway.capabilities.notifications
    with pytest.raises(NotSupported):
        gateway.verify_notification(build_notification(b"paid=1"), {"instructions": "x"})
    with pytest.raises(NotSupported):
        gateway.refund(RefundRequest("x", Money(1, "EUR"), "1", "k"), {})
