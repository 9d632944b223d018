"""Bank transfer: the customer pays by themselves, staff mark the order paid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payments.config import ConfigField
from payments.gateway import Gateway
from payments.i18n import N_
from payments.interfaces import Capabilities, PaymentRequest, PaymentStart
from payments.offline import fill_instructions


class ManualGateway(Gateway):
    name = "manual"
    title = N_("Bank transfer")
    capabilities = Capabilities(offline=True)
    config_schema = (
        ConfigField(
            "instructions",
            N_("Payment instructions"),
            required=True,
            help=N_(
                "Bank details shown to the customer; {order_reference} and {amount} are replaced."
            ),
        ),
    )

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        return PaymentStart.offline(fill_instructions(settings["instructions"], request))
