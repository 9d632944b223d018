"""Every route of customers (``customers.*``)."""


def includeme(config) -> None:
    config.add_route("customers.list", "/admin/customers")
    config.add_route("customers.detail", "/admin/customers/{id:\\d+}")
