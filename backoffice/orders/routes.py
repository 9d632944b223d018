"""Every route of orders (``orders.*``)."""


def includeme(config) -> None:
    config.add_route("orders.list", "/admin/orders")
    config.add_route("orders.export", "/admin/orders/export.csv")
    config.add_route("orders.bulk", "/admin/orders/bulk")
    config.add_route("orders.detail", "/admin/orders/{id:\\d+}")
    config.add_route("orders.status", "/admin/orders/{id:\\d+}/status")
    config.add_route("orders.note", "/admin/orders/{id:\\d+}/notes")
