"""Each store's gateway settings; secrets encrypted at rest, never shown back.

A secret is sealed with the key ring under the context
``tenant:<store id>:gateway:<name>:<field>``: copied into another store's
database, another gateway's row or another field, it no longer decrypts.
Nothing here logs a setting's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.payments.models import GatewayConfig
from payments.config import secret_fields
from payments.errors import ConfigurationError
from payments.gateway import Gateway
from payments.registry import GatewayRegistry
from tenancy.keyring import KeyRing, KeyRingError


def secret_context(tenant_id: int, gateway: str, field: str) -> str:
    return f"tenant:{tenant_id}:gateway:{gateway}:{field}"


@dataclass(frozen=True)
class GatewaySummary:
    """What the owner's pages may show: secrets only as set / not set."""

    name: str
    title: str
    enabled: bool
    configured: bool
    position: int
    settings: dict[str, Any]
    secrets_set: dict[str, bool]


class GatewaySettings:
    """The gateway configurations of one store, on that store's session."""

    def __init__(self, db: Session, keyring: KeyRing, tenant_id: int, gateways: GatewayRegistry):
        self.db = db
        self.keyring = keyring
        self.tenant_id = tenant_id
        self.gateways = gateways

    def row(self, name: str) -> GatewayConfig | None:
        return self.db.scalar(select(GatewayConfig).where(GatewayConfig.gateway == name))

    def config_for(self, name: str) -> dict[str, Any]:
        """The decrypted settings, or ``ConfigurationError`` (never a partial dict)."""
        gateway = self.gateways.get(name)
        row = self.row(name)
        if row is None:
            raise ConfigurationError(f"payment gateway {name!r} is not configured for this store")
        return self._decrypted(gateway, row)

    def summaries(self) -> list[GatewaySummary]:
        rows = {row.gateway: row for row in self.db.scalars(select(GatewayConfig))}
        found = [self._summary(g, rows.get(n)) for n, g in self.gateways.available().items()]
        return sorted(found, key=lambda s: (not s.enabled, s.position, s.name))

    def summary(self, name: str) -> GatewaySummary:
        return self._summary(self.gateways.get(name), self.row(name))

    def enabled(self) -> list[GatewaySummary]:
        return [s for s in self.summaries() if s.enabled]

    def save(
        self,
        name: str,
        values: Mapping[str, Any],
        *,
        clear: frozenset[str] = frozenset(),
        position: int | None = None,
    ) -> GatewayConfig:
        """Validate with the gateway's schema and store; raises ``ConfigError``.

        A secret left blank keeps its stored value (forms never show secrets
        back); names in *clear* remove it.
        """
        gateway = self.gateways.get(name)
        row = self.row(name)
        current = self._decrypted(gateway, row) if row is not None else {}
        secrets = secret_fields(gateway.config_schema)
        merged: dict[str, Any] = {}
        for field in gateway.config_schema:
            value = values.get(field.name)
            if field.name in secrets and (value is None or value == ""):
                value = None if field.name in clear else current.get(field.name)
            merged[field.name] = value
        cleaned = gateway.validate_config(merged)
        if row is None:
            row = GatewayConfig(gateway=name, enabled=False, position=0)
            self.db.add(row)
        row.settings = {k: v for k, v in cleaned.items() if k not in secrets}
        row.secrets = {
            k: self.keyring.encrypt_text(v, context=self._context(name, k))
            for k, v in cleaned.items()
            if k in secrets and v
        }
        if position is not None:
            row.position = position
        self.db.flush()
        return row

    def set_enabled(self, name: str, enabled: bool) -> GatewayConfig:
        """Enabling needs settings that validate now (fails closed otherwise)."""
        row = self.row(name)
        if row is None:
            raise ConfigurationError(f"payment gateway {name!r} is not configured for this store")
        if enabled:
            gateway = self.gateways.get(name)
            gateway.validate_config(self._decrypted(gateway, row))
        row.enabled = enabled
        self.db.flush()
        return row

    def _decrypted(self, gateway: Gateway, row: GatewayConfig) -> dict[str, Any]:
        # Only the fields the gateway declares today: a setting dropped by a
        # newer gateway version must not make validation refuse the store.
        known = {field.name for field in gateway.config_schema}
        values = {k: v for k, v in (row.settings or {}).items() if k in known}
        for field, token in (row.secrets or {}).items():
            if field not in known:
                continue
            try:
                values[field] = self.keyring.decrypt_text(
                    token, context=self._context(row.gateway, field)
                )
            except KeyRingError as exc:
                raise ConfigurationError(
                    f"secret {field!r} of gateway {row.gateway!r} does not decrypt: {exc}"
                ) from None
        return values

    def _summary(self, gateway: Gateway, row: GatewayConfig | None) -> GatewaySummary:
        secrets = secret_fields(gateway.config_schema)
        stored = (row.secrets or {}) if row is not None else {}
        return GatewaySummary(
            name=gateway.name,
            title=gateway.title,
            enabled=bool(row is not None and row.enabled),
            configured=row is not None,
            position=row.position if row is not None else 0,
            settings=dict(row.settings or {}) if row is not None else {},
            secrets_set={name: name in stored for name in sorted(secrets)},
        )

    def _context(self, gateway: str, field: str) -> str:
        return secret_context(self.tenant_id, gateway, field)


def rotate_gateway_secrets(db: Session, keyring: KeyRing, tenant_id: int) -> int:
    """Re-encrypt this store's gateway secrets under the newest key; returns the count."""
    count = 0
    for row in db.scalars(select(GatewayConfig).with_for_update()):
        tokens = dict(row.secrets or {})
        for field, token in tokens.items():
            if keyring.needs_rotation(token):
                context = secret_context(tenant_id, row.gateway, field)
                tokens[field] = keyring.rotate(token, context=context)
                count += 1
        if tokens != row.secrets:
            row.secrets = tokens
    db.flush()
    return count
