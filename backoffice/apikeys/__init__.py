"""API keys of a store: the owner's pages under ``/admin/api-keys``.

Permission ``api.manage`` (owners and managers). The service is in
``services.py``; the keys are used by the store API (``storefront.api``).
"""


def includeme(config) -> None:
    config.include("backoffice.apikeys.routes")
