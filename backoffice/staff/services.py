"""Signing in and managing staff accounts of one store."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.models import StaffUser
from backoffice.models.base import utcnow
from backoffice.security import throttle
from backoffice.security.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    verify_password,
)


class Throttled(Exception):
    """Too many failed sign-ins for this account or from this address."""


def authenticate(db: Session, email: str, password: str, ip: str) -> StaffUser | None:
    email = email.strip().lower()
    if throttle.is_throttled(db, email, ip):
        raise Throttled(email)
    user = db.scalar(select(StaffUser).where(StaffUser.email == email))
    # Unknown e-mails are verified against a dummy hash: same timing either way.
    good = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if not good or user is None or not user.is_active:
        throttle.record_failure(db, email, ip)
        return None
    throttle.clear_account(db, email)
    throttle.forget_old(db)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def staff_list(db: Session) -> list[StaffUser]:
    return list(db.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.email)))


def email_taken(db: Session, email: str, *, except_id: int | None = None) -> bool:
    query = select(StaffUser.id).where(StaffUser.email == email)
    if except_id is not None:
        query = query.where(StaffUser.id != except_id)
    return db.scalar(query) is not None


def active_owners(db: Session) -> int:
    return db.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == "owner", StaffUser.is_active.is_(True))
    )


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def public(user: StaffUser) -> dict:
    """What the audit log keeps of an account (never the password hash)."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.is_active,
        "locale": user.locale,
    }
