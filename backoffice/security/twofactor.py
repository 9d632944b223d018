"""Staff two-factor sign-in: TOTP (RFC 6238: 30 s steps, 6 digits, ±1 step).

A member enrols from their profile: a new secret is stored unconfirmed, shown
as text, as an ``otpauth://`` URI and as a QR code, and is on only once a code
from the authenticator app confirms it. The secret is encrypted with the
control plane's key ring under the context ``tenant:<id>:staff:<user id>:totp``
(a token copied to another member or store does not decrypt). A code is good
once: the newest accepted time step is kept, and a code of that step or an
older one is refused. Ten recovery codes are shown once at confirmation and
stored as SHA-256 hashes (random 50-bit codes, tried under the sign-in
throttle: a slow hash would add nothing); each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.models import StaffTwoFactor, StaffUser
from backoffice.models.base import utcnow
from tenancy.keyring import KeyRing

DIGITS = 6
INTERVAL = 30
WINDOW = 1  # steps accepted either side of now: clocks drift, people type slowly
RECOVERY_CODES = 10
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: read off paper


def secret_context(tenant_id: int, user_id: int) -> str:
    return f"tenant:{tenant_id}:staff:{user_id}:totp"


def totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return totp(secret).provisioning_uri(name=email, issuer_name=issuer or None)


def qr_svg(uri: str) -> Markup:
    """The URI as an inline SVG QR code (segno writes only paths, no text)."""
    return Markup(
        segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#111", light="#fff")
    )


def matching_step(
    secret: str, code: str, after: int | None, now: float | None = None
) -> int | None:
    """The time step ``code`` belongs to (within ±WINDOW), if newer than ``after``."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    otp = totp(secret)
    current = int(time.time() if now is None else now) // INTERVAL
    for step in range(current - WINDOW, current + WINDOW + 1):
        if (after is None or step > after) and hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    def one() -> str:
        chars = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        return f"{chars[:5]}-{chars[5:]}"

    return [one() for _ in range(RECOVERY_CODES)]


def recovery_hash(code: str) -> str:
    plain = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(f"backoffice-recovery:{plain}".encode()).hexdigest()


class TwoFactor:
    """A store's two-factor rows, the key ring and the store id its secrets are bound to."""

    def __init__(self, db: Session, keyring: KeyRing, tenant_id: int):
        self.db, self.keyring, self.tenant_id = db, keyring, tenant_id

    def row(self, user_id: int, *, for_update: bool = False) -> StaffTwoFactor | None:
        query = select(StaffTwoFactor).where(StaffTwoFactor.staff_user_id == user_id)
        return self.db.scalar(query.with_for_update() if for_update else query)

    def is_on(self, user_id: int) -> bool:
        row = self.row(user_id)
        return row is not None and row.confirmed_at is not None

    def secret(self, row: StaffTwoFactor) -> str:
        return self.keyring.decrypt_text(
            row.secret, context=secret_context(self.tenant_id, row.staff_user_id)
        )

    def enrolment(self, user: StaffUser) -> tuple[StaffTwoFactor, str]:
        """The member's unconfirmed secret, made now if there is none yet."""
        row = self.row(user.id, for_update=True)
        if row is None:
            secret = pyotp.random_base32()
            row = StaffTwoFactor(
                staff_user_id=user.id,
                secret=self.keyring.encrypt_text(
                    secret, context=secret_context(self.tenant_id, user.id)
                ),
                recovery_codes=[],
            )
            self.db.add(row)
            self.db.flush()
            return row, secret
        return row, self.secret(row)

    def confirm(self, row: StaffTwoFactor, code: str) -> list[str] | None:
        """Turn it on with a first code: the recovery codes to show once, or None."""
        step = matching_step(self.secret(row), code, row.last_step)
        if step is None:
            return None
        codes = new_recovery_codes()
        row.last_step, row.confirmed_at = step, utcnow()
        row.recovery_codes = [recovery_hash(c) for c in codes]
        return codes

    def check(self, row: StaffTwoFactor, code: str) -> str | None:
        """A sign-in's second factor: ``"totp"``, ``"recovery"`` or None; uses it up."""
        step = matching_step(self.secret(row), code, row.last_step)
        if step is not None:
            row.last_step = step
            return "totp"
        hashed = recovery_hash(code)
        left = list(row.recovery_codes or [])
        for stored in left:
            if hmac.compare_digest(stored, hashed):
                left.remove(stored)
                row.recovery_codes = left
                return "recovery"
        return None

    def remove(self, user_id: int) -> bool:
        row = self.row(user_id, for_update=True)
        if row is None:
            return False
        self.db.delete(row)
        self.db.flush()
        return row.confirmed_at is not None

    def rotate(self) -> int:
        """Re-encrypt this store's secrets under the newest key; returns the count."""
        count = 0
        for row in self.db.scalars(select(StaffTwoFactor).with_for_update()):
            if self.keyring.needs_rotation(row.secret):
                context = secret_context(self.tenant_id, row.staff_user_id)
                row.secret = self.keyring.rotate(row.secret, context=context)
                count += 1
        self.db.flush()
        return count


def request_two_factor(request) -> TwoFactor:
    """``request.two_factor``: the service on the request's store."""
    return TwoFactor(request.db, request.registry.control.keyring, request.tenant.id)
