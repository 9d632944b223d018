"""Every route of API keys (``apikeys.*``)."""


def includeme(config) -> None:
    config.add_route("apikeys.list", "/admin/api-keys")
    config.add_route("apikeys.revoke", "/admin/api-keys/{id:\\d{1,18}}/revoke")
