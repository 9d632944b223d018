"""Sign-in throttling: too many failures for one account or from one address.

Failures are rows in the store's own database (``login_attempts``), so every
web process sees the same counts; a successful sign-in clears the account's
failures but not the address's, so one good password cannot launder guesses
made against other accounts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backoffice.models import LoginAttempt
from backoffice.models.base import utcnow

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20


def is_throttled(db: Session, email: str, ip: str) -> bool:
    since = utcnow() - WINDOW
    per_account = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == email, LoginAttempt.created_at >= since)
    )
    if per_account >= MAX_PER_ACCOUNT:
        return True
    per_address = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip == ip, LoginAttempt.created_at >= since)
    )
    return per_address >= MAX_PER_ADDRESS


def record_failure(db: Session, email: str, ip: str) -> None:
    db.add(LoginAttempt(email=email[:254], ip=ip[:45]))


def clear_account(db: Session, email: str) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == email))


def forget_old(db: Session) -> None:
    """Old rows only cost space; removed on each successful sign-in."""
    db.execute(delete(LoginAttempt).where(LoginAttempt.created_at < utcnow() - 2 * WINDOW))
