"""Control database: servers, stores (tenants), domains, API key index, jobs."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on MariaDB, but INTEGER on SQLite so that ids autoincrement there.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Microseconds on MariaDB (plain DATETIME keeps whole seconds): leases last seconds.
Moment = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantStatus(enum.StrEnum):
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    MIGRATING = "migrating"
    RESTORING = "restoring"
    MOVING = "moving"
    FAILED = "failed"
    DROPPED = "dropped"


# Statuses in which the store's database is being changed under it: 503.
BUSY_STATUSES = frozenset(
    {
        TenantStatus.PROVISIONING,
        TenantStatus.MIGRATING,
        TenantStatus.RESTORING,
        TenantStatus.MOVING,
    }
)


class ServerStatus(enum.StrEnum):
    ACTIVE = "active"  # new stores may be placed here
    DRAINING = "draining"  # its stores are being moved away; no new ones
    FULL = "full"  # keeps its stores; no new ones


class DatabaseServer(Base):
    __tablename__ = "database_servers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "mysql" or "sqlite"
    admin_url_encrypted: Mapped[str] = mapped_column(Text)
    user_host: Mapped[str] = mapped_column(String(255), default="%")
    status: Mapped[str] = mapped_column(String(16), default=ServerStatus.ACTIVE)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def secret_context(self) -> str:
        return f"server:{self.name}:admin_url"


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.PROVISIONING)
    server_id: Mapped[int] = mapped_column(ForeignKey("database_servers.id"))
    database_name: Mapped[str] = mapped_column(String(64), unique=True)
    db_user: Mapped[str] = mapped_column(String(80))
    db_password_encrypted: Mapped[str] = mapped_column(Text)
    schema_revision: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    provisioning_step: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    default_locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # The saga working on the store now (tenancy/sagas.py): who, since when, until when
    # unless its heartbeat extends it. An expired lease means its holder died.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_since: Mapped[datetime | None] = mapped_column(Moment)
    lease_expires_at: Mapped[datetime | None] = mapped_column(Moment)

    server: Mapped[DatabaseServer] = relationship(lazy="joined")

    @property
    def password_context(self) -> str:
        return f"tenant:{self.id}:db_password"

    def bump_version(self) -> None:
        """Every change to how the store is reached invalidates cached lookups."""
        self.version = (self.version or 0) + 1


class Domain(Base):
    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiKeyIndex(Base):
    """Maps an API key's public prefix to its store without scanning stores."""

    __tablename__ = "api_key_index"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(String(64), default="read")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Job(Base):
    """An operator operation on one store, with progress, for audit and resume."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), index=True
    )
    tenant_slug: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="running")
    progress: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class BackupState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Backup(Base):
    """One encrypted backup file of one store (see ``tenancy.backups``).

    The slug is kept beside the id so a backup outlives its store: a dropped
    store can be restored under ``--as``.
    """

    __tablename__ = "backups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), index=True
    )
    tenant_slug: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    key_id: Mapped[str] = mapped_column(String(32))
    schema_revision: Mapped[str | None] = mapped_column(String(64))
    source_dialect: Mapped[str] = mapped_column(String(16))
    row_counts: Mapped[dict | None] = mapped_column(JSON)
    sha256: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=BackupState.RUNNING)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # The object's key in off-site storage once uploaded (tenancy/backups/offsite.py).
    offsite_key: Mapped[str | None] = mapped_column(String(1024))
