"""Hosted checkout pages and the public store API (per store, on the tenancy router).

``backoffice.config.configure`` includes ``storefront.api`` and
``storefront.checkout`` by name and scans this package.
"""
