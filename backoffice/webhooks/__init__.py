"""Outgoing webhooks to reseller sites: endpoints, signed deliveries, retries, a log.

``includeme`` registers the delivery task (the worker needs it too) and the
owner's pages under ``/admin/webhooks`` (permission ``api.manage``).
"""

from backoffice.webhooks.delivery import deliver_webhook


def includeme(config) -> None:
    config.add_task(deliver_webhook)
    config.include("backoffice.webhooks.routes")
