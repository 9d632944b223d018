"""Server-side staff sessions: one ``staff_sessions`` row per signed-in browser.

The signed cookie (``sessions.py``) carries a random token; the store's own
database keeps only its SHA-256, the member, when the session began and was
last seen, when it ends at the latest, and the browser and address it began
from. Every signed-in request finds its row in the statement that loads the
member (``policy.load_staff_user``), so deleting rows ends sessions at once:
sign-out deletes its own, a password change, a role change, disabling an
account and a reset of its two-factor sign-in delete all of the member's.

A session ends after ``backoffice.session_idle_timeout`` seconds unused and
``backoffice.session_lifetime`` seconds after sign-in, whichever comes first.
``last_seen_at`` is written at most once a minute (``TOUCH_AFTER``), so the
idle timeout is kept to within that minute and most pages write nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from backoffice.models import StaffSession, StaffUser
from backoffice.models.base import utcnow
from tenancy.settings import as_int

DEFAULTS = {
    "backoffice.session_idle_timeout": str(12 * 3600),
    "backoffice.session_lifetime": str(7 * 24 * 3600),
}
TOUCH_AFTER = timedelta(seconds=60)
TOKEN_BYTES = 32


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    lifetime: timedelta

    @classmethod
    def from_settings(cls, settings) -> SessionLimits:
        merged = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS and v}}
        return cls(
            idle=timedelta(seconds=as_int(merged, "backoffice.session_idle_timeout", minimum=60)),
            lifetime=timedelta(seconds=as_int(merged, "backoffice.session_lifetime", minimum=60)),
        )

    def alive(self, now: datetime, last_seen: datetime, expires: datetime) -> bool:
        return now < expires and now - last_seen < self.idle


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    db: Session, user: StaffUser, limits: SessionLimits, *, two_factor: bool, ua: str, ip: str
) -> tuple[str, StaffSession]:
    """A new session of ``user``: the token for the cookie, and its row."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    row = StaffSession(
        id_hash=token_hash(token),
        staff_user_id=user.id,
        two_factor=two_factor,
        created_at=now,
        last_seen_at=now,
        expires_at=now + limits.lifetime,
        user_agent=(ua or "")[:255],
        ip=(ip or "")[:45],
    )
    db.add(row)
    return token, row


def touch(db: Session, id_hash: str, now: datetime) -> None:
    db.execute(
        update(StaffSession)
        .where(StaffSession.id_hash == id_hash)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end(db: Session, id_hash: str) -> None:
    db.execute(
        delete(StaffSession)
        .where(StaffSession.id_hash == id_hash)
        .execution_options(synchronize_session=False)
    )


def end_all(db: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of the member, but ``keep`` (an id hash) if given."""
    query = delete(StaffSession).where(StaffSession.staff_user_id == user_id)
    if keep is not None:
        query = query.where(StaffSession.id_hash != keep)
    return db.execute(query.execution_options(synchronize_session=False)).rowcount


def forget_expired(db: Session, limits: SessionLimits) -> None:
    """Ended sessions only cost space; removed on each sign-in (a store has few)."""
    now = utcnow()
    db.execute(
        delete(StaffSession)
        .where(or_(StaffSession.expires_at <= now, StaffSession.last_seen_at <= now - limits.idle))
        .execution_options(synchronize_session=False)
    )


def sessions_of(db: Session, user_id: int, limits: SessionLimits) -> list[StaffSession]:
    """The member's live sessions, the most recently used first."""
    now = utcnow()
    rows = db.scalars(
        select(StaffSession)
        .where(StaffSession.staff_user_id == user_id)
        .order_by(StaffSession.last_seen_at.desc())
    )
    return [row for row in rows if limits.alive(now, row.last_seen_at, row.expires_at)]
