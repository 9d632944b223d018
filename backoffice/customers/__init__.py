"""Customers: the list and one customer's details with their order history."""


def includeme(config) -> None:
    config.add_route("customers.list", "/admin/customers")
    config.add_route("customers.detail", "/admin/customers/{id:\\d+}")
