"""The whole app's routes, in matching order, with the methods their views answer.

A route added, renamed, moved or reordered, or a view that starts answering
another method, fails here: change the table in the same commit, deliberately.
``ANY`` is a view without a ``request_method`` predicate.
"""

from __future__ import annotations

from pyramid.interfaces import IRoutesMapper

from backoffice.config import make_app

ANY = "ANY"


def route_table(registry) -> list[tuple[str, str, str]]:
    """(route name, pattern, the methods its views answer) in matching order."""
    methods: dict[str, set[str]] = {}
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        if view["route_name"] is None:
            continue  # exception, not-found and forbidden views
        allowed = view["request_methods"] or (ANY,)
        allowed = (allowed,) if isinstance(allowed, str) else allowed
        methods.setdefault(view["route_name"], set()).update(allowed)
    return [
        (route.name, route.pattern, " ".join(sorted(methods.get(route.name, ()))))
        for route in registry.getUtility(IRoutesMapper).get_routes()
    ]


ROUTES = [
    ("healthz", "/healthz", "ANY"),
    ("metrics", "/metrics", "ANY"),
    ("__admin/static/", "admin/static/*subpath", "ANY"),
    ("admin.home", "/admin/", "ANY"),
    ("admin.home_bare", "/admin", "ANY"),
    ("staff.login", "/admin/login", "GET POST"),
    ("staff.login_code", "/admin/login/code", "GET POST"),
    ("staff.logout", "/admin/logout", "POST"),
    ("staff.profile", "/admin/profile", "GET POST"),
    ("staff.language", "/admin/profile/language", "POST"),
    ("staff.sessions_end", "/admin/profile/sessions/end-others", "POST"),
    ("staff.two_factor", "/admin/profile/two-factor", "GET POST"),
    ("staff.two_factor_off", "/admin/profile/two-factor/off", "POST"),
    ("staff.list", "/admin/staff", "ANY"),
    ("staff.require_two_factor", "/admin/staff/two-factor", "POST"),
    ("staff.new", "/admin/staff/new", "GET POST"),
    ("staff.edit", "/admin/staff/{id:\\d+}", "GET POST"),
    ("staff.two_factor_reset", "/admin/staff/{id:\\d+}/two-factor/reset", "POST"),
    ("store.settings", "/admin/settings", "GET POST"),
    ("store.statuses", "/admin/settings/statuses", "GET POST"),
    ("orders.list", "/admin/orders", "ANY"),
    ("orders.export", "/admin/orders/export.csv", "ANY"),
    ("orders.bulk", "/admin/orders/bulk", "POST"),
    ("orders.detail", "/admin/orders/{id:\\d+}", "ANY"),
    ("orders.status", "/admin/orders/{id:\\d+}/status", "POST"),
    ("orders.note", "/admin/orders/{id:\\d+}/notes", "POST"),
    ("products.list", "/admin/products", "ANY"),
    ("products.new", "/admin/products/new", "GET POST"),
    ("products.edit", "/admin/products/{id:\\d+}", "GET POST"),
    ("products.delete", "/admin/products/{id:\\d+}/delete", "POST"),
    ("customers.list", "/admin/customers", "ANY"),
    ("customers.detail", "/admin/customers/{id:\\d+}", "ANY"),
    ("dashboard.home", "/admin/dashboard", "ANY"),
    ("audit.list", "/admin/audit", "ANY"),
    ("apikeys.list", "/admin/api-keys", "GET POST"),
    ("apikeys.revoke", "/admin/api-keys/{id:\\d{1,18}}/revoke", "POST"),
    ("webhooks.list", "/admin/webhooks", "GET POST"),
    ("webhooks.disable", "/admin/webhooks/{id:\\d{1,18}}/disable", "POST"),
    ("webhooks.deliveries", "/admin/webhooks/deliveries", "GET"),
    ("payments.notify", "/payments/notify/{gateway}", "GET POST"),
    ("payments.return", "/payments/return/{gateway}", "GET"),
    ("payments.sandbox", "/payments/sandbox", "GET POST"),
    ("payments.gateways", "/admin/payments", "GET"),
    ("payments.gateway", "/admin/payments/{gateway}", "GET POST"),
    ("payments.gateway_enabled", "/admin/payments/{gateway}/enabled", "POST"),
    ("payments.order", "/admin/orders/{id:\\d+}/payments", "GET"),
    ("payments.refund", "/admin/orders/{id:\\d+}/refund", "POST"),
    ("payments.record", "/admin/orders/{id:\\d+}/payments/record", "POST"),
    ("api.openapi", "/api/v1/openapi.json", "GET"),
    ("api.products", "/api/v1/products", "GET POST"),
    ("api.product", "/api/v1/products/{sku}", "GET PATCH"),
    ("api.product_stock", "/api/v1/products/{sku}/stock", "POST"),
    ("api.product_archive", "/api/v1/products/{sku}/archive", "POST"),
    ("api.orders", "/api/v1/orders", "GET POST"),
    ("api.order", "/api/v1/orders/{id:\\d{1,18}}", "GET"),
    ("api.order_status_change", "/api/v1/orders/{id:\\d{1,18}}/status", "POST"),
    ("api.order_notes", "/api/v1/orders/{id:\\d{1,18}}/notes", "POST"),
    ("api.order_refunds", "/api/v1/orders/{id:\\d{1,18}}/refunds", "GET POST"),
    ("api.customers", "/api/v1/customers", "GET POST"),
    ("api.customer", "/api/v1/customers/{id:\\d{1,18}}", "GET PATCH"),
    ("api.order_status", "/api/v1/order-status/{token}", "GET"),
    ("api.carts", "/api/v1/carts", "POST"),
    ("api.webhooks", "/api/v1/webhooks", "GET POST"),
    ("api.webhook", "/api/v1/webhooks/{id:\\d{1,18}}", "DELETE GET"),
    ("api.webhook_disable", "/api/v1/webhooks/{id:\\d{1,18}}/disable", "POST"),
    ("__checkout/static/", "checkout/static/*subpath", "ANY"),
    ("checkout.cart", "/checkout", "GET"),
    ("checkout.add", "/checkout/add", "GET"),
    ("checkout.cart_post", "/checkout/cart", "POST"),
    ("checkout.cart_token", "/checkout/c/{token}", "GET"),
    ("checkout.update", "/checkout/update", "ANY POST"),
    ("checkout.details", "/checkout/details", "ANY GET POST"),
    ("checkout.payment", "/checkout/payment", "ANY GET POST"),
    ("checkout.review", "/checkout/review", "GET"),
    ("checkout.place", "/checkout/place", "ANY POST"),
    ("checkout.order", "/checkout/order/{token}", "ANY GET"),
    ("checkout.pay", "/checkout/order/{token}/pay", "ANY GET"),
]


def test_route_table(sqlite_settings, sqlite_control):
    app = make_app(sqlite_settings, control=sqlite_control)
    assert route_table(app.registry) == ROUTES
