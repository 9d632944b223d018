"""The audit log: every staff action that changes data, with before and after."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.models import AuditEntry


def _plain(value):
    """JSON-safe copies of the values we store (dates and decimals as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date | Decimal):
        return str(value)
    return value


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, so the log shows what really changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    request,
    action: str,
    entity: str,
    entity_id=None,
    *,
    before=None,
    after=None,
    actor: str | None = None,
) -> AuditEntry:
    """``actor`` names who acted when no staff member is signed in (an API key)."""
    user = request.staff_user if actor is None else None
    entry = AuditEntry(
        actor=actor or (user.email if user else "system"),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=_plain(before),
        after=_plain(after),
    )
    request.db.add(entry)
    return entry


def page(
    db: Session, *, offset: int, limit: int, entity: str | None = None, actor: str | None = None
) -> tuple[list[AuditEntry], bool]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    rows = list(db.scalars(query.offset(offset).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def entities(db: Session) -> list[str]:
    return list(
        db.scalars(
            select(AuditEntry.entity)
            .group_by(AuditEntry.entity)
            .order_by(func.min(AuditEntry.entity))
        )
    )
