"""Customers: the list and one customer's details with their order history."""


def includeme(config) -> None:
    config.include("backoffice.customers.routes")
