"""``Idempotency-Key`` and ``external_reference``: one order however often it is sent.

Both are claims in ``idempotency_records`` (unique on scope + key, compared
byte for byte: a binary collation), inserted first in the request's
transaction. A concurrent identical request blocks on the uncommitted row, gets
a duplicate-key error once the first commits, and then reads the committed row
and replays the stored response. That read is a *shared* locking read: a
locking read sees the latest committed row (a plain one would see the
transaction's older snapshot), and every waiter already holds a shared lock on
the key from its duplicate-key check, so exclusive ones (``FOR UPDATE``) would
deadlock the waiters against each other.

If the first request fails, its claim is rolled back with it and the retry runs
normally: only successful creations are remembered. When it fails while others
wait, InnoDB may pick some of them as deadlock victims; such a deadlock (or a
lock wait timeout) is retried by pyramid_retry, and on the last attempt the
answer is ``409 in_progress`` with ``Retry-After``: never a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from backoffice.models import IdempotencyRecord
from storefront.api.errors import ApiError, bad_request

REFERENCE_SCOPE = "reference"
MAX_KEY_LENGTH = 200
# MariaDB: deadlock found, lock wait timeout exceeded.
LOCK_ERRORS = {1213, 1205}


@dataclass
class Claims:
    new: list[IdempotencyRecord]
    replay: IdempotencyRecord | None = None

    def complete(self, status: int, body: bytes, order_id: int) -> None:
        for record in self.new:
            record.status_code, record.order_id = status, order_id
            record.response_body = body.decode("utf-8")


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise bad_request(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            {"header": "Idempotency-Key"},
        )
    return key


def in_progress() -> ApiError:
    return ApiError(
        409,
        "in_progress",
        "an identical request is still being processed; retry in a moment",
        headers={"Retry-After": "1"},
    )


def claim_all(
    db: Session, wanted: list[tuple[str, str]], request_hash: str, *, last_attempt: bool = True
) -> Claims:
    """Claim every (scope, key); ``last_attempt``: no retry follows a lock error."""
    claims = Claims(new=[])
    for scope, key in wanted:
        try:
            existing = _claim(db, scope, key, request_hash, claims)
        except OperationalError as exc:
            if last_attempt and _code(exc) in LOCK_ERRORS:
                raise in_progress() from None
            raise
        if existing is None:
            continue
        if existing.request_hash != request_hash:
            raise _mismatch(scope, key)
        if existing.status_code is None:
            raise in_progress()
        claims.replay = existing
        return claims
    return claims


def _code(exc: OperationalError):
    return getattr(exc.orig, "args", [None])[0]


def _claim(db, scope, key, request_hash, claims) -> IdempotencyRecord | None:
    record = IdempotencyRecord(scope=scope, key=key, request_hash=request_hash)
    try:
        with db.begin_nested():
            db.add(record)
            db.flush()
    except IntegrityError:
        existing = db.scalar(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .with_for_update(read=True)
        )
        if existing is None:  # the holder rolled back between our error and this read
            raise in_progress() from None
        return existing
    claims.new.append(record)
    return None


def _mismatch(scope: str, key: str) -> ApiError:
    if scope == REFERENCE_SCOPE:
        return ApiError(
            409,
            "duplicate_external_reference",
            "an order with this external_reference exists with other content",
            {"external_reference": key},
        )
    return ApiError(
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request",
        {"idempotency_key": key},
    )
