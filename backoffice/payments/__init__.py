"""The core side of payments: store settings, notifications, starts and refunds.

``config.include("backoffice.payments")`` adds the routes, the per-app gateway
registry (``registry.payment_gateways``, gateways found through the
``backoffice.payment_gateways`` entry points) and ``request.payment_settings``.
The gateways themselves live in the ``payments`` package and never touch a
database; see docs/payments.md.
"""

from __future__ import annotations

from payments.registry import GatewayRegistry


def includeme(config) -> None:
    config.registry.payment_gateways = GatewayRegistry()
    config.add_request_method(
        "backoffice.payments.services.gateway_settings", "payment_settings", reify=True
    )
    config.include("backoffice.payments.routes")
