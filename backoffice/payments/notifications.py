"""Provider notifications: verified, stored raw, then applied.

The endpoint is open to anyone, so what an unauthenticated sender can make us
store is bounded: the view refuses bodies beyond the gateway's size
(``notification_limit``) and gateways this store has not set up, before
reading anything.

1. The gateway verifies the request with this store's settings. A missing or
   undecryptable secret is a ``ConfigurationError``: nothing is accepted
   (fail closed) and the provider is told to retry (503). Anything else the
   gateway raises on malformed input is a rejection too (400).
2. An authentic notification is written to ``payment_notifications`` whole,
   in a transaction of its own (committed at once), so it survives whatever
   happens next. A rejected one is recorded with its first ``KEEP_REJECTED``
   bytes and the SHA-256 and length of the whole body, at most
   ``RejectedLimit`` rows per store and minute (then only a log line).
3. The events are applied in the request's transaction (``ledger``), and the
   notification's final status is written in that same transaction, so it
   reads "accepted" only if the money changes were committed with it. If
   applying fails, the changes are rolled back and the row gets the terminal
   status "error" with the reason: no notification stays "received".
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pyramid_retry import IRetryableError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backoffice.payments.configs import GatewaySettings
from backoffice.payments.ledger import Applied, apply_event
from backoffice.payments.models import PaymentNotification
from payments.errors import PaymentError, VerificationError
from payments.gateway import Gateway
from payments.interfaces import Acknowledgement, IncomingNotification

log = logging.getLogger(__name__)

# Per gateway: providers send a few KiB (Robokassa, PayPal IPN, YooKassa:
# form fields or a small JSON object); Stripe's events embed whole objects.
# A gateway may declare its own ``max_notification_bytes``.
DEFAULT_LIMIT = 32 * 1024
LIMITS = {"stripe": 128 * 1024}
MAX_BODY = max(DEFAULT_LIMIT, *LIMITS.values())
KEEP_REJECTED = 1024
# MariaDB: deadlock, lock wait timeout: the request is retried (pyramid_retry).
LOCK_ERRORS = {1213, 1205}
# Never stored: credentials a proxy or a browser may add; signatures are kept.
PRIVATE_HEADERS = frozenset(
    {"cookie", "authorization", "proxy-authorization", "x-api-key", "set-cookie"}
)
# Order matters: the most serious outcome of several events wins.
SEVERITY = ("duplicate", "accepted", "flagged")


@dataclass(frozen=True)
class RawNotification:
    gateway: str
    method: str
    headers: list[tuple[str, str]]
    body: bytes
    query_string: str = ""
    remote_addr: str = ""
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def incoming(self) -> IncomingNotification:
        return IncomingNotification.from_http(
            self.method,
            self.headers,
            self.body,
            query_string=self.query_string,
            remote_addr=self.remote_addr,
            received_at=self.received_at,
        )

    def stored_headers(self) -> list[list[str]]:
        return [[k, v] for k, v in self.headers if k.lower() not in PRIVATE_HEADERS]

    def bounded(self) -> RawNotification:
        """What is kept of a notification nobody vouched for: its first bytes only."""
        return replace(
            self,
            body=self.body[:KEEP_REJECTED],
            query_string=self.query_string[:KEEP_REJECTED],
            headers=[(k[:100], v[:500]) for k, v in self.headers[:50]],
        )


def notification_limit(gateway: Gateway) -> int:
    declared = getattr(gateway, "max_notification_bytes", None)
    return declared if isinstance(declared, int) else LIMITS.get(gateway.name, DEFAULT_LIMIT)


class RejectedLimit:
    """At most ``per_minute`` rejected notifications recorded per store and minute."""

    def __init__(self, per_minute: int = 30, max_stores: int = 10_000):
        self.per_minute, self.max_stores = per_minute, max_stores
        self._lock = threading.Lock()
        self._minute, self._counts = 0, {}

    def allow(self, store) -> bool:
        minute = int(time.monotonic() // 60)
        with self._lock:
            if minute != self._minute or len(self._counts) > self.max_stores:
                self._minute, self._counts = minute, {}
            self._counts[store] = self._counts.get(store, 0) + 1
            return self._counts[store] <= self.per_minute


@dataclass(frozen=True)
class Outcome:
    notification_id: int
    status: str  # accepted | duplicate | flagged | rejected
    acknowledgement: Acknowledgement
    error: str = ""
    order_ids: tuple[int, ...] = ()


def record(engine: Engine, raw: RawNotification, status: str = "received", error: str = "") -> int:
    """Store the notification as received and commit at once; returns its id."""
    with Session(bind=engine) as session, session.begin():
        row = PaymentNotification(
            gateway=raw.gateway[:64],
            method=raw.method[:8],
            query_string=raw.query_string,
            headers=raw.stored_headers(),
            body=raw.body,
            remote_addr=raw.remote_addr[:64],
            received_at=raw.received_at.astimezone(UTC).replace(tzinfo=None),
            status=status,
            error=error[:2000],
            processed_at=None if status == "received" else datetime.now(UTC).replace(tzinfo=None),
        )
        session.add(row)
        session.flush()
        return row.id


def mark(engine: Engine, notification_id: int, status: str, error: str = "") -> None:
    """A final status in its own transaction (for outcomes that change nothing else)."""
    with Session(bind=engine) as session, session.begin():
        session.execute(_status(notification_id, status, error))


def _status(notification_id: int, status: str, error: str, order_id: int | None = None):
    values = {
        "status": status,
        "error": error[:2000],
        "processed_at": datetime.now(UTC).replace(tzinfo=None),
    }
    if order_id is not None:
        values["order_id"] = order_id
    return (
        update(PaymentNotification)
        .where(PaymentNotification.id == notification_id)
        .values(**values)
    )


def process(
    db: Session,
    settings: GatewaySettings | Mapping[str, Any] | PaymentError,
    gateway: Gateway,
    raw: RawNotification,
    *,
    rejected_limit: RejectedLimit | None = None,
    memo: dict | None = None,
) -> Outcome:
    """Verify, record and apply one notification; never raises a ``PaymentError``.

    ``settings``: the store's gateway settings, or the gateway's config already
    read (or the ``ConfigurationError`` reading it raised), so that verifying
    holds no connection of ``db`` while ``record`` takes one of its own.
    ``memo`` (the WSGI environ) keeps the stored row's id across the retries of
    one request, so a retried request does not store the notification twice.
    """
    engine = db.get_bind()
    incoming = raw.incoming()
    try:
        events = gateway.verify_notification(incoming, _config(settings, gateway))
    except PaymentError as exc:
        return _rejected(engine, gateway, raw, incoming, exc, rejected_limit)
    except Exception as exc:
        if _retryable(exc):
            raise
        error = VerificationError(f"malformed notification ({type(exc).__name__})")
        return _rejected(engine, gateway, raw, incoming, error, rejected_limit)
    memo = {} if memo is None else memo
    notification_id = memo.get("backoffice.notification_id") or record(engine, raw)
    memo["backoffice.notification_id"] = notification_id
    try:
        with db.begin_nested():
            results = [apply_event(db, event) for event in events]
    except Exception as exc:
        if _retryable(exc):
            # InnoDB rolled the transaction back: the request runs again; on
            # its last attempt the row still gets its terminal status.
            if memo.get("retry.attempt", 0) + 1 >= memo.get("retry.attempts", 1):
                mark(engine, notification_id, "error", _describe(exc))
            raise
        # The savepoint undid this notification's changes: "error" is committed alone.
        log.warning("payment notification %s could not be applied: %s", notification_id, exc)
        db.execute(_status(notification_id, "error", _describe(exc)))
        error = VerificationError(f"cannot apply the notification ({type(exc).__name__})")
        ack = gateway.acknowledge_error(incoming, error)
        return Outcome(notification_id, "error", ack, _describe(exc))
    return _finish(db, gateway, incoming, notification_id, events, results)


def _config(settings, gateway: Gateway) -> Mapping[str, Any]:
    if isinstance(settings, PaymentError):
        raise settings
    if isinstance(settings, GatewaySettings):
        return settings.config_for(gateway.name)
    return settings


def _retryable(exc: Exception) -> bool:
    code = getattr(getattr(exc, "orig", None), "args", [None])[0]
    locked = isinstance(exc, OperationalError) and code in LOCK_ERRORS
    return locked or IRetryableError.providedBy(exc)


def _rejected(engine, gateway, raw, incoming, exc, limit: RejectedLimit | None) -> Outcome:
    """Unauthenticated: keep a bounded trace of it (rate-limited per store), change nothing."""
    notification_id = 0
    if limit is None or limit.allow(engine.url.database):
        digest = hashlib.sha256(raw.body).hexdigest()
        note = f"; body: {len(raw.body)} bytes, sha256 {digest}"
        notification_id = record(engine, raw.bounded(), "rejected", _describe(exc) + note)
    log.warning(
        "payment notification %s for %s refused: %s",
        notification_id or "(not stored)",
        gateway.name,
        type(exc).__name__,
    )
    return Outcome(
        notification_id, "rejected", gateway.acknowledge_error(incoming, exc), _describe(exc)
    )


def _finish(db, gateway, incoming, notification_id, events, results: list[Applied]) -> Outcome:
    status = max((r.status for r in results), key=SEVERITY.index, default="accepted")
    error = "; ".join(r.message for r in results if r.message)
    order_ids = tuple(r.order_id for r in results if r.order_id is not None)
    db.execute(_status(notification_id, status, error, order_ids[0] if order_ids else None))
    if status == "flagged" and not order_ids:
        # Authentic but for no order of this store: let the provider know it failed.
        ack = gateway.acknowledge_error(incoming, VerificationError(error))
    else:
        ack = gateway.acknowledge(incoming, events)
    return Outcome(notification_id, status, ack, error, order_ids)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"
