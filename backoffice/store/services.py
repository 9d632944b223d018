"""Store settings: name, currency, language, timezone, order number format, logo.

Kept as key/value rows in ``store_settings``; read once per request
(``request.store_config``) and saved with an audit entry by the settings page.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.models import StoreSetting

KEYS = ("name", "currency", "default_locale", "timezone", "order_number_format", "logo_url")
DEFAULT_NUMBER_FORMAT = "{seq:06d}"


@dataclass(frozen=True)
class StoreConfig:
    name: str
    currency: str = "EUR"
    default_locale: str = "en"
    timezone: str = "UTC"
    order_number_format: str = DEFAULT_NUMBER_FORMAT
    logo_url: str = ""  # shown on the hosted checkout; https:// or a path on this site
    # The store's own order statuses (see backoffice.orders.statuses); None = defaults.
    order_statuses: list | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in KEYS}


def load_config(db: Session, tenant) -> StoreConfig:
    rows = dict(db.execute(select(StoreSetting.key, StoreSetting.value)).all())
    config = StoreConfig(name=tenant.name if tenant else "",
                         default_locale=(tenant.default_locale if tenant else None) or "en")
    values = {key: rows[key] for key in KEYS if rows.get(key)}
    statuses = rows.get("order_statuses")
    return replace(config, **values, order_statuses=json.loads(statuses) if statuses else None)


def save_config(db: Session, changes: dict) -> None:
    for key, value in changes.items():
        _put(db, key, value)


def save_statuses(db: Session, statuses: list[dict]) -> None:
    _put(db, "order_statuses", json.dumps(statuses, ensure_ascii=False))


def _put(db: Session, key: str, value: str) -> None:
    row = db.get(StoreSetting, key)
    if row is None:
        db.add(StoreSetting(key=key, value=value))
    else:
        row.value = value


def request_store_config(request) -> StoreConfig:
    return load_config(request.db, request.tenant)


__all__ = ["KEYS", "StoreConfig", "asdict", "load_config", "save_config", "save_statuses"]
