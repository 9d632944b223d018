"""Every gateway shipped with the back office passes the conformance kit.

The kit (payments.testing.conformance) is the same one an outside gateway
distribution runs on itself; see tests/payments/example_gateway.
"""

from __future__ import annotations

import pytest

from payments.registry import BUILTIN_GATEWAYS
from payments.testing.conformance import GatewayConformance, serve_provider  # noqa: F401
from tests.payments.profiles import PROFILES


def test_every_builtin_gateway_has_a_profile():
    assert set(PROFILES) == set(BUILTIN_GATEWAYS)


class TestBuiltinGateways(GatewayConformance):
    @pytest.fixture(params=sorted(PROFILES))
    def gateway_profile(self, request, serve_provider):  # noqa: F811
        return PROFILES[request.param](serve_provider)
