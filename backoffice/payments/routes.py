"""Every route of the payments feature."""


def includeme(config) -> None:
    # Providers and shoppers (no staff session): CSRF-exempt only where signed.
    config.add_route("payments.notify", "/payments/notify/{gateway}")
    config.add_route("payments.return", "/payments/return/{gateway}")
    config.add_route("payments.sandbox", "/payments/sandbox")
    # The owner's back-office.
    config.add_route("payments.gateways", "/admin/payments")
    config.add_route("payments.gateway", "/admin/payments/{gateway}")
    config.add_route("payments.gateway_enabled", "/admin/payments/{gateway}/enabled")
    config.add_route("payments.order", "/admin/orders/{id:\\d+}/payments")
    config.add_route("payments.refund", "/admin/orders/{id:\\d+}/refund")
    config.add_route("payments.record", "/admin/orders/{id:\\d+}/payments/record")
