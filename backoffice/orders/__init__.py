"""Orders: the list (filters, sorting, bulk changes, CSV), the detail page, statuses."""

from backoffice.orders.statuses import request_order_flow


def includeme(config) -> None:
    config.add_request_method(request_order_flow, "order_flow", reify=True)
    config.add_route("orders.list", "/admin/orders")
    config.add_route("orders.export", "/admin/orders/export.csv")
    config.add_route("orders.bulk", "/admin/orders/bulk")
    config.add_route("orders.detail", "/admin/orders/{id:\\d+}")
    config.add_route("orders.status", "/admin/orders/{id:\\d+}/status")
    config.add_route("orders.note", "/admin/orders/{id:\\d+}/notes")
