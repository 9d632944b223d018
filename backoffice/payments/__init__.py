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
    registry = config.registry
    if getattr(registry, "payment_gateways", None) is None:
        registry.payment_gateways = gateway_registry(config.get_settings())
    config.add_request_method(
        "backoffice.payments.services.gateway_settings", "payment_settings", reify=True
    )
    config.include("backoffice.payments.routes")


def gateway_registry(settings) -> GatewayRegistry:
    """Gateways from entry points; ``backoffice.gateways_hidden`` (comma-separated
    names) are not offered, nor example gateways outside the test environment."""
    hidden = [n.strip() for n in settings.get("backoffice.gateways_hidden", "").split(",")]
    return GatewayRegistry(
        hidden=[n for n in hidden if n],
        show_examples=settings.get("backoffice.environment") == "test",
    )
