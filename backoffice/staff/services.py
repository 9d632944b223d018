"""Signing in and managing staff accounts of one store."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.models import StaffTwoFactor, StaffUser
from backoffice.models.base import utcnow
from backoffice.security import staff_sessions, throttle
from backoffice.security.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    verify_password,
)
from backoffice.security.staff_sessions import SessionLimits


class Throttled(Exception):
    """Too many failed sign-ins for this account or from this address."""


def authenticate(db: Session, email: str, password: str, ip: str) -> StaffUser | None:
    """The member whose password this is; their failures stay counted until
    ``signed_in`` (a second factor may still be missing)."""
    email = email.strip().lower()
    if throttle.is_throttled(db, email, ip):
        raise Throttled(email)
    user = db.scalar(select(StaffUser).where(StaffUser.email == email))
    # Unknown e-mails are verified against a dummy hash: same timing either way.
    good = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if not good or user is None or not user.is_active:
        throttle.record_failure(db, email, ip)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def signed_in(db: Session, user: StaffUser, limits: SessionLimits) -> None:
    """Every factor was right: clear the account's failures, note the time.

    Not at the password alone: a good password must not wipe out the failed
    codes typed after it, or the code could be guessed in rounds of five.
    """
    throttle.clear_account(db, user.email)
    throttle.forget_old(db)
    staff_sessions.forget_expired(db, limits)
    user.last_login_at = utcnow()


def staff_list(db: Session) -> list[tuple[StaffUser, bool]]:
    """Every member, with whether their two-factor sign-in is on."""
    rows = db.execute(
        select(StaffUser, StaffTwoFactor.confirmed_at)
        .outerjoin(StaffTwoFactor, StaffTwoFactor.staff_user_id == StaffUser.id)
        .order_by(StaffUser.role, StaffUser.email)
    )
    return [(user, confirmed is not None) for user, confirmed in rows]


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


def ends_sessions(before: dict, member: StaffUser, *, password_changed: bool) -> bool:
    """An owner's change after which the member must sign in again."""
    return (
        password_changed
        or member.role != before["role"]
        or (before["is_active"] and not member.is_active)
    )
