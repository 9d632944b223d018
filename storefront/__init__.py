"""Hosted checkout pages and the public store API (per store, on the tenancy router)."""


def includeme(config) -> None:
    config.include("storefront.api")
    config.include("storefront.checkout")
