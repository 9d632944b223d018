"""The example distribution's own tests: the back office's conformance kit.

``pip install backoffice`` brings the kit as a pytest plugin (entry point
``pytest11``); a gateway distribution writes a profile - how its provider
signs a notification - and subclasses ``GatewayConformance``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from bo_example_gateway import ExampleGateway, sign

from payments.testing.conformance import GatewayConformance
from payments.testing.profile import ConformanceProfile, Delivery

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class ExampleProfile(ConformanceProfile):
    gateway_class = ExampleGateway
    currency = "EUR"
    secret = "example-shared-secret"

    def config(self):
        return {"checkout_url": "https://pay.example.test/checkout", "secret": self.secret}

    def _notice(self, order_reference, amount, secret=None, sent=None):
        body = urlencode(
            {"txn": f"ex-{order_reference}", "order": order_reference, "amount": amount.amount}
        ).encode()
        signature = sign(body, secret or self.secret)
        if sent is not None:
            body = body.replace(
                f"amount={amount.amount}".encode(), f"amount={sent.amount}".encode()
            )
        return Delivery(body, {**FORM, "X-Example-Signature": signature})

    def paid(self, order_reference, amount):
        return self._notice(order_reference, amount)

    def forged(self, order_reference, amount):
        return self._notice(order_reference, amount, secret="guessed")

    def tampered_amount(self, order_reference, amount, claimed):
        return self._notice(order_reference, amount, sent=claimed)


class TestExampleGatewayConformance(GatewayConformance):
    @pytest.fixture
    def gateway_profile(self, serve_provider):
        return ExampleProfile(serve_provider)


def test_is_an_example():
    assert ExampleGateway.example is True
