"""The schema of one store's database (its own MetaData, its own migrations).

Importing this package imports every model module so ``metadata`` is complete.
"""

from backoffice.models.api import ApiKey, IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from backoffice.models.audit import AuditEntry
from backoffice.models.base import TenantBase, metadata
from backoffice.models.catalog import Product
from backoffice.models.checkouts import Checkout
from backoffice.models.customers import Customer
from backoffice.models.orders import InventoryMovement, Order, OrderEvent, OrderLine
from backoffice.models.outbox import OutboxCursor, OutboxEvent
from backoffice.models.payments import Payment
from backoffice.models.security import LoginAttempt, StaffSession, StaffTwoFactor
from backoffice.models.settings import StoreSetting
from backoffice.models.staff import StaffUser
from backoffice.payments.models import GatewayConfig, PaymentNotification

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Checkout",
    "Customer",
    "GatewayConfig",
    "IdempotencyRecord",
    "InventoryMovement",
    "LoginAttempt",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OutboxCursor",
    "OutboxEvent",
    "Payment",
    "PaymentNotification",
    "Product",
    "StaffSession",
    "StaffTwoFactor",
    "StaffUser",
    "StoreSetting",
    "TenantBase",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
