"""Webhook endpoints, for the owner's pages and the store API: create (the signing
secret is shown once), list, disable, delete."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backoffice.i18n import _
from backoffice.models import WebhookDelivery, WebhookEndpoint
from backoffice.webhooks import addresses
from backoffice.webhooks.delivery import secret_context
from backoffice.webhooks.events import EVENT_TYPES
from backoffice.webhooks.signing import new_secret
from tenancy.keyring import KeyRing


class EndpointError(ValueError):
    """The URL or the events chosen cannot be used; the message says why, ``field`` which."""

    def __init__(self, message, field: str = "url"):
        super().__init__(message)
        self.field = field


def check_url(url: str, *, allow_private: bool) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise EndpointError(_("Enter an http:// or https:// address."))
    if not allow_private and _private(parts.hostname):
        # Webhooks are sent from our servers: never to our own network.
        raise EndpointError(_("This address is on a private network."))
    return url


def _private(host: str) -> bool:
    """A first check when the URL is saved; the delivery checks every resolved
    address again when it connects (``webhooks.addresses``)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    # Numeric forms too: 2130706433, 0x7f.1 and 127.1 all name 127.0.0.1.
    address = addresses.numeric_host(host)
    return address is not None and addresses.is_blocked(address)


def create_endpoint(
    db: Session,
    keyring: KeyRing,
    tenant_id: int,
    url: str,
    events,
    description: str = "",
    *,
    allow_private: bool = False,
) -> tuple[WebhookEndpoint, str]:
    chosen = [e for e in EVENT_TYPES if e in set(events)]
    if not chosen:
        raise EndpointError(_("Choose at least one event."), "events")
    endpoint = WebhookEndpoint(
        url=check_url(url, allow_private=allow_private),
        description=(description or "").strip()[:200],
        events=" ".join(chosen),
        is_active=True,
        secret_encrypted="",
    )
    db.add(endpoint)
    db.flush()
    secret = new_secret()
    endpoint.secret_encrypted = keyring.encrypt_text(
        secret, context=secret_context(tenant_id, endpoint.id)
    )
    db.flush()
    return endpoint, secret


def disable_endpoint(endpoint: WebhookEndpoint) -> bool:
    """Stop sending to the endpoint (its delivery log stays); whether it was active."""
    was_active = bool(endpoint.is_active)
    endpoint.is_active = False
    return was_active


def delete_endpoint(db: Session, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log are gone; deliveries not yet sent are dropped."""
    db.delete(endpoint)
    db.flush()


def endpoints(db: Session) -> list[WebhookEndpoint]:
    return list(db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())))


def recent_deliveries(db: Session, limit: int = 100) -> list[WebhookDelivery]:
    return list(
        db.scalars(
            select(WebhookDelivery)
            .options(selectinload(WebhookDelivery.endpoint))
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
