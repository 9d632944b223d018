"""Declarative base of the store schema, separate from the control database's."""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Integer, MetaData, String
from sqlalchemy.dialects.mysql import VARCHAR
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# BIGINT on MariaDB; INTEGER on SQLite so that its rowid autoincrements.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Money is integer minor units (cents, kopecks) next to the order's currency.
Minor = BigInteger().with_variant(Integer(), "sqlite")


def Token(length: int):
    """Text compared byte for byte: tokens, keys, references from outside.

    MariaDB's default collation ignores case (and trailing spaces), so
    ``WHERE status_token = 'ABC'`` would find ``abc``; a binary collation makes
    equality and uniqueness exact. SQLite compares bytes already.
    """
    return String(length).with_variant(VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class TenantBase(DeclarativeBase):
    metadata = metadata
