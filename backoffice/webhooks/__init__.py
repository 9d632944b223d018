"""Outgoing webhooks to reseller sites: endpoints, signed deliveries, retries, a log.

``includeme`` registers the delivery task (the worker needs it too) and the
owner's pages under ``/admin/webhooks`` (permission ``api.manage``).
"""

from backoffice.webhooks.delivery import deliver_webhook
from backoffice.webhooks.outbox import webhooks_from_outbox


def includeme(config) -> None:
    config.add_task(deliver_webhook)
    config.add_task(webhooks_from_outbox)
    config.add_outbox_consumer(webhooks_from_outbox)
    config.include("backoffice.webhooks.routes")
