"""All routes of the store API (``api.*``)."""

API = "/api/v1"


def includeme(config) -> None:
    config.add_route("api.openapi", f"{API}/openapi.json")
    config.add_route("api.products", f"{API}/products")
    config.add_route("api.product", f"{API}/products/{{sku}}")
    config.add_route("api.product_stock", f"{API}/products/{{sku}}/stock")
    config.add_route("api.product_archive", f"{API}/products/{{sku}}/archive")
    config.add_route("api.orders", f"{API}/orders")
    config.add_route("api.order", f"{API}/orders/{{id:\\d{{1,18}}}}")
    config.add_route("api.order_status_change", f"{API}/orders/{{id:\\d{{1,18}}}}/status")
    config.add_route("api.order_notes", f"{API}/orders/{{id:\\d{{1,18}}}}/notes")
    config.add_route("api.order_refunds", f"{API}/orders/{{id:\\d{{1,18}}}}/refunds")
    config.add_route("api.customers", f"{API}/customers")
    config.add_route("api.customer", f"{API}/customers/{{id:\\d{{1,18}}}}")
    config.add_route("api.order_status", f"{API}/order-status/{{token}}")
    config.add_route("api.carts", f"{API}/carts")
    config.add_route("api.webhooks", f"{API}/webhooks")
    config.add_route("api.webhook", f"{API}/webhooks/{{id:\\d{{1,18}}}}")
    config.add_route("api.webhook_disable", f"{API}/webhooks/{{id:\\d{{1,18}}}}/disable")
