"""Products: list, create, edit, delete (SKU unique, price, stock, active flag)."""


def includeme(config) -> None:
    config.include("backoffice.products.routes")
