"""Every route of products (``products.*``)."""


def includeme(config) -> None:
    config.add_route("products.list", "/admin/products")
    config.add_route("products.new", "/admin/products/new")
    config.add_route("products.edit", "/admin/products/{id:\\d+}")
    config.add_route("products.delete", "/admin/products/{id:\\d+}/delete")
