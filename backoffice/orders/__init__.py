"""Orders: the list (filters, sorting, bulk changes, CSV), the detail page, statuses."""

from backoffice.orders.statuses import request_order_flow


def includeme(config) -> None:
    config.add_request_method(request_order_flow, "order_flow", reify=True)
    config.include("backoffice.orders.routes")
