"""Store settings: name, currency, language, timezone, order number format, logo.

Kept as key/value rows in ``store_settings``; read once per request
(``request.store_config``) and saved with an audit entry by the settings page.
A back-office request reads them in the same round trip as the signed-in
staff member (``settings_json`` beside the staff row, then ``prime_config``):
one query fewer on every page, and nothing cached that another process could
have changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from sqlalchemy import String, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from backoffice.models import StoreSetting
from backoffice.orders import numbers

KEYS = ("name", "currency", "default_locale", "timezone", "order_number_format", "logo_url")
DEFAULT_NUMBER_FORMAT = numbers.DEFAULT_FORMAT
REQUIRE_TWO_FACTOR = "require_two_factor"  # "1" when on; kept out of KEYS (staff page)


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
    # Every member signs in with a second factor (set on the staff page).
    require_two_factor: bool = False

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in KEYS}


class settings_json(FunctionElement):
    """All of ``store_settings`` as one JSON object text: a scalar subquery
    that rides along with another query (``config_from_json`` reads it)."""

    type = String()
    inherit_cache = True


@compiles(settings_json)
def _settings_json_mysql(element, compiler, **kw) -> str:
    # MariaDB >= 10.5, MySQL >= 5.7.22; NULL when there are no rows.
    return "(SELECT JSON_OBJECTAGG(`key`, value) FROM store_settings)"


@compiles(settings_json, "sqlite")
def _settings_json_sqlite(element, compiler, **kw) -> str:
    return "(SELECT json_group_object(key, value) FROM store_settings)"


def load_config(db: Session, tenant) -> StoreConfig:
    return config_from_rows(
        dict(db.execute(select(StoreSetting.key, StoreSetting.value)).all()), tenant
    )


def config_from_json(text: str | None, tenant) -> StoreConfig:
    return config_from_rows(json.loads(text) if text else {}, tenant)


def config_from_rows(rows: dict, tenant) -> StoreConfig:
    config = StoreConfig(
        name=tenant.name if tenant else "",
        default_locale=(tenant.default_locale if tenant else None) or "en",
    )
    values = {key: rows[key] for key in KEYS if rows.get(key)}
    statuses = rows.get("order_statuses")
    return replace(
        config,
        **values,
        order_statuses=json.loads(statuses) if statuses else None,
        require_two_factor=rows.get(REQUIRE_TWO_FACTOR) == "1",
    )


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


def prime_config(request, text: str | None) -> None:
    """``request.store_config`` from a ``settings_json`` read with another
    query, unless the request has read its settings already."""
    if "store_config" not in request.__dict__:  # reified: the instance's dict
        request.store_config = config_from_json(text, request.tenant)


__all__ = [
    "KEYS",
    "REQUIRE_TWO_FACTOR",
    "StoreConfig",
    "asdict",
    "config_from_json",
    "load_config",
    "prime_config",
    "save_config",
    "save_statuses",
    "settings_json",
]
