"""Outgoing webhooks to reseller sites: endpoints, signed deliveries, retries, a log.

``includeme`` registers the delivery task (the worker needs it too) and the
owner's pages under ``/admin/webhooks`` (permission ``api.manage``).
"""

from backoffice.webhooks.delivery import deliver_webhook


def includeme(config) -> None:
    config.add_task(deliver_webhook)
    config.add_route("webhooks.list", "/admin/webhooks")
    config.add_route("webhooks.disable", "/admin/webhooks/{id:\\d{1,18}}/disable")
    config.add_route("webhooks.deliveries", "/admin/webhooks/deliveries")
