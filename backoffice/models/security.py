from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models.base import Id, TenantBase, utcnow


class LoginAttempt(TenantBase):
    """A failed sign-in, kept for throttling per account and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_created_at", "email", "created_at"),
        Index("ix_login_attempts_ip_created_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StaffSession(TenantBase):
    """A signed-in browser of a staff member (``backoffice.security.sessions``).

    The cookie carries a random token; only its SHA-256 is stored, so a copy of
    this table opens no session. Deleting the row ends the session everywhere.
    """

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        Id, ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    # Signed in with a second factor (or enrolled in this session).
    two_factor: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")


class StaffTwoFactor(TenantBase):
    """A staff member's TOTP secret (``backoffice.security.twofactor``).

    ``secret`` is a key-ring token bound to the store and the member; it is on
    once ``confirmed_at`` is set. ``last_step`` is the newest accepted time
    step (a code is good once); ``recovery_codes`` are SHA-256 hashes, each
    removed when used.
    """

    __tablename__ = "staff_two_factor"

    staff_user_id: Mapped[int] = mapped_column(
        Id, ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_codes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
