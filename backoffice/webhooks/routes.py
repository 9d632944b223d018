"""Every route of outgoing webhooks (``webhooks.*``)."""


def includeme(config) -> None:
    config.add_route("webhooks.list", "/admin/webhooks")
    config.add_route("webhooks.disable", "/admin/webhooks/{id:\\d{1,18}}/disable")
    config.add_route("webhooks.deliveries", "/admin/webhooks/deliveries")
