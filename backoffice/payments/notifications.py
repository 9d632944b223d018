"""Provider notifications: stored raw first, verified, then applied.

1. The request is written to ``payment_notifications`` in a transaction of
   its own (committed at once), so it survives whatever happens next.
2. The gateway verifies it with this store's settings. A missing or
   undecryptable secret is a ``ConfigurationError``: nothing is accepted
   (fail closed) and the provider is told to retry (503).
3. The events are applied in the request's transaction (``ledger``), and the
   notification's final status is written in that same transaction, so it
   reads "accepted" only if the money changes were committed with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from backoffice.payments.configs import GatewaySettings
from backoffice.payments.ledger import Applied, apply_event
from backoffice.payments.models import PaymentNotification
from payments.errors import PaymentError, VerificationError
from payments.gateway import Gateway
from payments.interfaces import Acknowledgement, IncomingNotification

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
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


@dataclass(frozen=True)
class Outcome:
    notification_id: int
    status: str  # accepted | duplicate | flagged | rejected
    acknowledgement: Acknowledgement
    error: str = ""
    order_ids: tuple[int, ...] = ()


def record(engine: Engine, raw: RawNotification) -> int:
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
            status="received",
            error="",
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
    db: Session, settings: GatewaySettings, gateway: Gateway, raw: RawNotification
) -> Outcome:
    """Record, verify and apply one notification; never raises a ``PaymentError``."""
    engine = db.get_bind()
    notification_id = record(engine, raw)
    incoming = raw.incoming()
    try:
        events = gateway.verify_notification(incoming, settings.config_for(gateway.name))
    except PaymentError as exc:
        mark(engine, notification_id, "rejected", _describe(exc))
        log.warning(
            "payment notification %s for %s refused: %s",
            notification_id,
            gateway.name,
            type(exc).__name__,
        )
        return Outcome(
            notification_id, "rejected", gateway.acknowledge_error(incoming, exc), _describe(exc)
        )
    results = [apply_event(db, event) for event in events]
    return _finish(db, gateway, incoming, notification_id, events, results)


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


def reject_unknown(engine: Engine, raw: RawNotification, error: str) -> int:
    notification_id = record(engine, raw)
    mark(engine, notification_id, "rejected", error)
    return notification_id


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"
