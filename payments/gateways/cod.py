"""Cash on delivery: the courier collects; nothing to verify online."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payments.config import ConfigField
from payments.gateway import Gateway
from payments.i18n import N_
from payments.interfaces import Capabilities, PaymentRequest, PaymentStart
from payments.offline import fill_instructions


class CashOnDeliveryGateway(Gateway):
    name = "cod"
    title = N_("Cash on delivery")
    capabilities = Capabilities(offline=True)
    config_schema = (
        ConfigField(
            "instructions",
            N_("Message to the customer"),
            default="Please pay {amount} to the courier on delivery.",
            help=N_("{order_reference} and {amount} are replaced."),
        ),
    )

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        return PaymentStart.offline(fill_instructions(settings["instructions"], request))
