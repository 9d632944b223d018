"""Declarative gateway settings and their validation.

A gateway lists its settings as ``ConfigField``s; the core renders the store
owner's form from them, encrypts the ``secret`` ones at rest, and passes the
decrypted dict back on every call.  Validation happens on every call too, so a
half-configured store fails closed instead of skipping a signature check.

Labels, help texts and validation messages are English, marked with ``N_``;
the core translates them when it renders the form (see payments/i18n.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from payments.errors import ConfigError
from payments.i18n import N_

FieldKind = Literal["text", "secret", "choice", "bool", "url"]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class ConfigField:
    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    help: str = ""

    @property
    def is_secret(self) -> bool:
        return self.kind == "secret"


def validate_config(schema: Sequence[ConfigField], values: Mapping[str, Any]) -> dict[str, Any]:
    """Return cleaned settings or raise ``ConfigError`` with one message per field.

    Every schema field is present in the result (``default`` when not given);
    unknown keys are refused because a typo in a secret's name would otherwise
    look like "no secret configured" far from its cause.
    """
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    known = {field.name for field in schema}
    for key in values:
        if key not in known:
            errors[key] = N_("Unknown setting.")
    for field in schema:
        try:
            cleaned[field.name] = _clean(field, values.get(field.name))
        except (ValueError, TypeError) as exc:
            errors[field.name] = str(exc)
    if errors:
        raise ConfigError(errors)
    return cleaned


def _clean(field: ConfigField, value: Any) -> Any:
    if _is_blank(value):
        if field.default is not None:
            value = field.default
        elif field.required:
            raise ValueError(N_("This field is required."))
        else:
            return False if field.kind == "bool" else None
    return _CLEANERS[field.kind](field, value)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean_text(field: ConfigField, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(N_("Must be text."))
    return value.strip()


def _clean_secret(field: ConfigField, value: Any) -> str:
    # Secrets are kept verbatim: stripping could silently change a key.
    if not isinstance(value, str):
        raise TypeError(N_("Must be text."))
    return value


def _clean_choice(field: ConfigField, value: Any) -> str:
    if value not in field.choices:
        raise ValueError(f"Must be one of: {', '.join(field.choices)}.")
    return value


def _clean_bool(field: ConfigField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(N_("Must be yes or no."))


def _clean_url(field: ConfigField, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(N_("Must be a URL."))
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(N_("Must be an http(s) URL."))
    return value.strip()


_CLEANERS = {
    "text": _clean_text,
    "secret": _clean_secret,
    "choice": _clean_choice,
    "bool": _clean_bool,
    "url": _clean_url,
}


def secret_fields(schema: Sequence[ConfigField]) -> frozenset[str]:
    """Names the core must encrypt at rest and never show back in forms."""
    return frozenset(field.name for field in schema if field.is_secret)


def redact(schema: Sequence[ConfigField], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy safe for logs and error pages: secrets replaced by ``***``."""
    hidden = secret_fields(schema)
    return {k: ("***" if k in hidden and v else v) for k, v in values.items()}
