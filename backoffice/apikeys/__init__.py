"""API keys of a store: the owner's pages under ``/admin/api-keys``.

Permission ``api.manage`` (owners and managers). The service is in
``services.py``; the keys are used by the store API (``storefront.api``).
"""


def includeme(config) -> None:
    config.add_route("apikeys.list", "/admin/api-keys")
    config.add_route("apikeys.revoke", "/admin/api-keys/{id:\\d{1,18}}/revoke")
