"""``Idempotency-Key`` and ``external_reference``: one order however often it is sent.

Both are claims in ``idempotency_records`` (unique on scope + key), inserted
first in the request's transaction. A concurrent identical request blocks on
the uncommitted row, gets a duplicate-key error once the first commits, and
then reads (with a locking read, which sees the committed row) and replays the
stored response. If the first request fails, its claim is rolled back with it
and the retry runs normally: only successful creations are remembered.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.models import IdempotencyRecord
from storefront.api.errors import ApiError, bad_request

REFERENCE_SCOPE = "reference"
MAX_KEY_LENGTH = 200


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


def claim_all(db: Session, wanted: list[tuple[str, str]], request_hash: str) -> Claims:
    claims = Claims(new=[])
    for scope, key in wanted:
        existing = _claim(db, scope, key, request_hash, claims)
        if existing is None:
            continue
        if existing.request_hash != request_hash:
            raise _mismatch(scope, key)
        if existing.status_code is None:
            raise ApiError(409, "in_progress", "an identical request is still being processed")
        claims.replay = existing
        return claims
    return claims


def _claim(db, scope, key, request_hash, claims) -> IdempotencyRecord | None:
    record = IdempotencyRecord(scope=scope, key=key, request_hash=request_hash)
    try:
        with db.begin_nested():
            db.add(record)
            db.flush()
    except IntegrityError:
        return db.scalar(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .with_for_update()
        )
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
