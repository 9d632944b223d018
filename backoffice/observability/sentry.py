"""Optional error reporting to Sentry, with secrets scrubbed before anything is sent.

With ``backoffice.sentry_dsn`` (``BACKOFFICE_SENTRY_DSN``) set and the extra
``sentry`` installed, errors of the web app (500s) and of tasks are reported.
No personal data (``send_default_pii=False``), no request bodies; every event
goes through ``scrub`` first: values under secret-looking keys (passwords,
tokens, Authorization, cookies, API keys, card data), secrets inside strings
(``password=...``, ``Bearer ...``, URL passwords, card numbers, e-mail
addresses) and the
deployment's own secrets (encryption keys, session secret, metrics token,
database and broker passwords, the DSN's key) wherever they appear.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from backoffice.observability.context import current_request_id

try:  # the optional extra ``sentry``
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.pyramid import PyramidIntegration
except ImportError:
    sentry_sdk = None

log = logging.getLogger(__name__)

FILTERED = "[Filtered]"
SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|authori[sz]ation|cookie|session|csrf|"
    r"api[-_]?key|^keys?$|private[-_]?key|credential|dsn|card|^pan$|cvc|cvv|iban|signature",
    re.IGNORECASE,
)
# name=value, name: value, name='value' (query strings, reprs, bodies, messages).
SECRET_PAIR = re.compile(
    r"(?i)\b(\w*(?:pass(?:word|wd)?|pwd|secret|token|api[-_]?key|authorization|cookie|session|csrf)\w*)"
    r"(\"?'?\s*[:=]\s*\"?'?)([^\s&\"',;)]+)"
)
BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*:)([^@\s]+)@")
# Customers' and staff's addresses: personal data, like send_default_pii=False keeps out.
EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
CARD_NUMBER = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
# Settings whose values are secrets (or hold one, like a URL's password).
SECRET_SETTINGS = re.compile(r"keys$|secret|token|password|dsn|_url$")


def secret_values(settings: Mapping[str, str]) -> list[str]:
    """This deployment's secrets as they could appear in text, longest first."""
    found = set()
    for name, value in settings.items():
        if not name.startswith("backoffice.") or not SECRET_SETTINGS.search(name) or not value:
            continue
        if name.endswith(("_url", "dsn")):
            parts = urlsplit(value)
            found.update(filter(None, (parts.password, name.endswith("dsn") and parts.username)))
        elif name.endswith("keys"):
            found.update(key.strip() for key in value.split(","))
        else:
            found.add(value.strip())
    return sorted((s for s in found if len(s) >= 6), key=len, reverse=True)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char) * (2 if index % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return FILTERED if _luhn(digits) else match.group()


def scrub_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, FILTERED)
    text = SECRET_PAIR.sub(lambda m: m.group(1) + m.group(2) + FILTERED, text)
    text = BEARER.sub(lambda m: f"{m.group(1)} {FILTERED}", text)
    text = URL_PASSWORD.sub(lambda m: m.group(1) + FILTERED + "@", text)
    text = EMAIL.sub(FILTERED, text)
    return CARD_NUMBER.sub(_card, text)


def scrub(value, secrets: list[str]):
    """A copy of *value* (an event, or any part of one) with secrets replaced."""
    if isinstance(value, Mapping):
        return {
            key: FILTERED
            if isinstance(key, str) and SECRET_KEY.search(key) and value[key] not in (None, "")
            else scrub(value[key], secrets)
            for key in value
        }
    if isinstance(value, list | tuple):
        # Headers may come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and SECRET_KEY.search(value[0]):
            return [value[0], FILTERED]
        return [scrub(item, secrets) for item in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"), secrets)
    return value


def before_send(event, hint, *, secrets: list[str]):
    event = scrub(event, secrets)
    request_id = current_request_id()
    if request_id and isinstance(event.get("tags", {}), dict):
        event.setdefault("tags", {})["request_id"] = request_id
    return event


@functools.cache  # once per process, however many apps are configured
def _warn_missing_sdk() -> None:
    log.warning(
        "backoffice.sentry_dsn is set but sentry-sdk is not installed "
        "(pip install 'backoffice[sentry]'): errors are not reported to Sentry"
    )


def init_sentry(settings: Mapping[str, str]) -> bool:
    """Start reporting if a DSN is set; True if it did."""
    dsn = (settings.get("backoffice.sentry_dsn") or "").strip()
    if not dsn:
        return False
    if sentry_sdk is None:
        _warn_missing_sdk()
        return False
    sentry_sdk.init(
        dsn=dsn,
        integrations=[PyramidIntegration(), CeleryIntegration()],
        environment=settings.get("backoffice.environment") or None,
        send_default_pii=False,
        max_request_body_size="never",
        before_send=functools.partial(before_send, secrets=secret_values(settings)),
    )
    return True
