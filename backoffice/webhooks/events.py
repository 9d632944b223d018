"""Which order events a webhook endpoint can subscribe to, and what they carry.

Events are written to the store's outbox by the order domain
(``backoffice.orders.service.announce``) and turned into deliveries by the
webhooks' outbox consumer (``backoffice.webhooks.outbox``).
"""

from __future__ import annotations

from backoffice.orders.enums import WebhookEventType
from backoffice.orders.service import snapshot

ORDER_CREATED = WebhookEventType.ORDER_CREATED
ORDER_STATUS_CHANGED = WebhookEventType.ORDER_STATUS_CHANGED
EVENT_TYPES = tuple(WebhookEventType)

order_payload = snapshot
