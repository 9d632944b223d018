"""Payment gateways for the back-office: translation and authenticity only.

The core (``backoffice``) owns money movements, order state, deduplication,
locking, storing raw notifications and encrypting credentials; see
docs/payments.md.  Importing this package registers nothing and does no I/O.
"""

from payments.config import ConfigField, validate_config
from payments.errors import (
    ConfigError,
    ConfigurationError,
    GatewayLoadError,
    NotSupported,
    PaymentError,
    ProviderError,
    UnknownGateway,
    VerificationError,
)
from payments.gateway import Gateway
from payments.http import Headers, HttpClient, HttpResponse, UrllibHttpClient
from payments.interfaces import (
    Acknowledgement,
    Capabilities,
    EventKind,
    GatewayEvent,
    IncomingNotification,
    PaymentRequest,
    PaymentStart,
    RefundRequest,
    RefundResult,
)
from payments.money import CurrencyMismatch, Money
from payments.registry import (
    ENTRY_POINT_GROUP,
    GatewayRegistry,
    available_gateways,
    get_gateway,
    register_gateway,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Acknowledgement",
    "Capabilities",
    "ConfigError",
    "ConfigField",
    "ConfigurationError",
    "CurrencyMismatch",
    "EventKind",
    "Gateway",
    "GatewayEvent",
    "GatewayLoadError",
    "GatewayRegistry",
    "Headers",
    "HttpClient",
    "HttpResponse",
    "IncomingNotification",
    "Money",
    "NotSupported",
    "PaymentError",
    "PaymentRequest",
    "PaymentStart",
    "ProviderError",
    "RefundRequest",
    "RefundResult",
    "UnknownGateway",
    "UrllibHttpClient",
    "VerificationError",
    "available_gateways",
    "get_gateway",
    "register_gateway",
    "validate_config",
]
