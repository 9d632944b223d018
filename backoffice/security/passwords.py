"""argon2id password hashing with OWASP's minimum cost (m=19 MiB, t=2, p=1)."""

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

MIN_LENGTH = 8


class WeakPassword(ValueError):
    """The password is too short; the message says the rule."""


def password_problem(password: str | None) -> str | None:
    """Why this password may not be used, or None."""
    if len(password or "") < MIN_LENGTH:
        return f"passwords need at least {MIN_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    if problem := password_problem(password):
        raise WeakPassword(problem)
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


# Verified against when the e-mail is unknown, so timing does not reveal accounts.
DUMMY_HASH = hasher.hash("not-a-real-password")
