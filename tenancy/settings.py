"""Settings: the ini file first, then ``BACKOFFICE_*`` environment overrides.

Every setting is a ``backoffice.<name>`` key in the ini file's ``[app:main]``
section; the environment variable ``BACKOFFICE_<NAME>`` (upper case) wins over
it, so containers and CI can configure a deployment without editing files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from plaster import get_settings

PREFIX = "backoffice."
ENV_PREFIX = "BACKOFFICE_"

DEFAULTS = {
    "backoffice.environment": "development",
    "backoffice.control_url": "sqlite:///{here}/var/control.sqlite",
    "backoffice.store_dir": "{here}/var/stores",
    "backoffice.backup_dir": "{here}/var/backups",
    "backoffice.keys_file": "{here}/var/keys.txt",
    "backoffice.base_domain": "localhost",
    "backoffice.db_prefix": "bo_",
    "backoffice.db_user_host": "%",
    "backoffice.engine_cap": "200",
    "backoffice.server_connection_cap": "100",
    "backoffice.engine_pool_size": "2",
    "backoffice.tenant_cache_ttl": "5",
    # Shared state (tenancy/events.py, tenancy/budget.py, the API rate limit):
    # empty redis_url = the broker's URL when that is Redis, else none (one process).
    "backoffice.redis_url": "",
    "backoffice.redis_prefix": "backoffice:",
    "backoffice.server_connection_budget": "0",
    "backoffice.connection_lease_seconds": "30",
    "backoffice.store_max_connections": "0",
    "backoffice.placement": "headroom",
    "backoffice.placement_weights": "stores:1,size:1,connections:1",
    "backoffice.trusted_proxy": "false",
    "backoffice.trusted_proxies": "",
    "backoffice.session_secret": "",
    "backoffice.gc_freeze": "true",
    "backoffice.gc_between_requests": "true",
    # Speed tricks that use libraries' insides (tenancy/speedups): all, then each.
    "backoffice.speedups": "on",
    "backoffice.speedups.escaping": "true",
    "backoffice.speedups.template_gettext": "true",
    "backoffice.speedups.money_format": "true",
    "backoffice.speedups.date_format": "true",
    "backoffice.speedups.order_detail_json": "true",
    "backoffice.speedups.datetime_parser": "true",
    "backoffice.speedups.shared_dialect": "true",
    "backoffice.speedups.upgrade_steps": "true",
}

# Environment variables that are not settings (they choose the ini file).
_NOT_SETTINGS = {"BACKOFFICE_CONFIG"}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {
        _key(name): value
        for name, value in environ.items()
        if name.startswith(ENV_PREFIX) and name not in _NOT_SETTINGS
    }


def _key(name: str) -> str:
    """``BACKOFFICE_ENGINE_CAP`` -> ``backoffice.engine_cap``; one speedup's switch
    ``BACKOFFICE_SPEEDUPS_<NAME>`` -> ``backoffice.speedups.<name>``."""
    key = name[len(ENV_PREFIX) :].lower()
    if key.startswith("speedups_"):
        key = "speedups." + key[len("speedups_") :]
    return PREFIX + key


def resolve(
    settings: Mapping[str, str] | None = None,
    *,
    here: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Merge defaults, the given settings and the environment, in that order."""
    here = Path(here or (settings or {}).get("here") or os.getcwd()).resolve()
    merged: dict[str, str] = {key: value.format(here=here) for key, value in DEFAULTS.items()}
    merged.update({k: v for k, v in (settings or {}).items() if v is not None})
    merged.update(env_overrides(environ))
    merged["here"] = str(here)
    return merged


def load(config_path: str | os.PathLike | None = None, **kw) -> dict[str, str]:
    """Read ``[app:main]`` of an ini file (``%(here)s`` expanded) and resolve it."""
    path = Path(config_path or os.environ.get("BACKOFFICE_CONFIG") or "development.ini")
    if not path.exists():
        raise SettingsError(f"config file not found: {path}")
    raw = get_settings(str(path.resolve()), "app:main")
    return resolve(raw, here=path.resolve().parent, **kw)


def as_int(
    settings: Mapping[str, str], key: str, *, minimum: int = 0, default: str | None = None
) -> int:
    value = settings.get(key) or default
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise SettingsError(f"{key} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise SettingsError(f"{key} must be at least {minimum}, got {number}")
    return number


def as_bool(settings: Mapping[str, str], key: str) -> bool:
    value = str(settings.get(key, "")).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"", "0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{key} must be true or false, got {value!r}")


def redis_url(settings: Mapping[str, str]) -> str | None:
    """Where processes share state: ``backoffice.redis_url``, else the broker's URL
    when it is Redis; None means each process keeps its own (the embedded default)."""
    for key in ("backoffice.redis_url", "backoffice.broker_url"):
        url = (settings.get(key) or "").strip()
        if url.startswith(("redis://", "rediss://", "unix://")):
            return url
        if url and key == "backoffice.redis_url":
            raise SettingsError(f"{key} must be a redis://, rediss:// or unix:// URL")
    return None


def redis_prefix(settings: Mapping[str, str]) -> str:
    """What every shared key and channel starts with: two deployments (or test
    runs) on one Redis keep apart by giving each its own."""
    return settings.get("backoffice.redis_prefix") or "backoffice:"


def is_production(settings: Mapping[str, str]) -> bool:
    return settings.get("backoffice.environment", "development") == "production"
