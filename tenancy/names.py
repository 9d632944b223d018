"""Store slugs (what operators type) and the database names derived from them.

Slug rules: 3 to 30 characters; lower-case ASCII letters, digits and single
hyphens; starts with a letter, ends with a letter or digit; not a reserved
word. Database and user names are *generated*: ``<prefix><slug with - as
_>_<4 random chars>``, validated against ``[a-z0-9_]`` and at most 32
characters (MySQL's user-name limit). Because ``_`` is a wildcard in
``GRANT ... ON db.*``, every grant escapes it (see ``grant_pattern``).
"""

from __future__ import annotations

import re
import secrets

SLUG_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,29}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]{0,5}$")
SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"

RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "assets",
        "backoffice",
        "control",
        "demo-admin",
        "healthz",
        "metrics",
        "mail",
        "root",
        "static",
        "status",
        "support",
        "system",
        "www",
    }
)


class InvalidName(ValueError):
    """A slug or a generated name breaks the rules; the message says which."""


def validate_slug(slug: str) -> str:
    if not isinstance(slug, str) or not slug:
        raise InvalidName("a store slug is required")
    if slug != slug.strip() or slug.lower() != slug:
        raise InvalidName(f"invalid slug {slug!r}: use lower-case letters, digits and hyphens")
    if not SLUG_RE.match(slug):
        raise InvalidName(
            f"invalid slug {slug!r}: 3-30 characters, lower-case letters, digits and "
            "single hyphens, starting with a letter and not ending with a hyphen"
        )
    if slug in RESERVED_SLUGS:
        raise InvalidName(f"slug {slug!r} is reserved")
    return slug


def validate_prefix(prefix: str) -> str:
    if not PREFIX_RE.match(prefix or ""):
        raise InvalidName(f"invalid database prefix {prefix!r}: [a-z][a-z0-9_]{{0,5}}")
    return prefix


def generate_database_name(slug: str, prefix: str = "bo_", suffix: str | None = None) -> str:
    """A fresh, valid database name for *slug* (a new one for every restore/move)."""
    validate_slug(slug)
    validate_prefix(prefix)
    suffix = suffix or "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(4))
    stem = slug.replace("-", "_")[: 32 - len(prefix) - len(suffix) - 1]
    return validate_name(f"{prefix}{stem}_{suffix}")


def validate_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise InvalidName(f"invalid database or user name {name!r}")
    return name


def grant_pattern(database: str) -> str:
    """The database part of a GRANT with wildcards escaped, so it matches one db."""
    return validate_name(database).replace("_", r"\_")
