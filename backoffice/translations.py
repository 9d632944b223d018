"""Locale negotiation and the message catalogs of the ``backoffice`` domain.

The locale of a request: the signed-in staff member's preference, then
``_LOCALE_`` in the query string, then Accept-Language, then the store's
default language, then English.

Compiled catalogs (``.mo``) are build artefacts; ``make translations`` builds
them, and start-up compiles any that are missing or older than their ``.po``
(so a fresh checkout, the tests and the demo always have them).
"""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy.exc import SQLAlchemyError
from transaction.interfaces import TransactionFailedError

from backoffice.formatting import request_formatter_factory
from backoffice.i18n import LOCALES
from tenancy.models import TenantStatus
from tenancy.registry import CapacityError

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "backoffice"


def negotiate_locale(request) -> str:
    ready = request.tenant is not None and request.tenant.status == TenantStatus.ACTIVE
    preferred = _from_store(request, lambda: request.staff_user) if ready else None
    if preferred is not None and preferred.locale in LOCALES:
        return preferred.locale
    asked = request.GET.get("_LOCALE_")
    if asked in LOCALES:
        return asked
    if request.headers.get("Accept-Language"):
        offered = request.accept_language.lookup(LOCALES, default="")
        if offered:
            return offered
    config = _from_store(request, lambda: request.store_config) if ready else None
    if config is not None and config.default_locale in LOCALES:
        return config.default_locale
    return "en"


def _from_store(request, read):
    """Error pages negotiate too, possibly after the store's database failed:
    unreachable, no room for another connection, or a commit that failed, after
    which the request's transaction takes no more work."""
    try:
        return read()
    except (SQLAlchemyError, CapacityError, TransactionFailedError):
        return None


def compile_catalogs(directory: Path = LOCALE_DIR, domain: str = DOMAIN) -> list[Path]:
    """Compile each ``.po`` whose ``.mo`` is missing or stale; returns what was built."""
    built = []
    for po_path in sorted(directory.glob(f"*/LC_MESSAGES/{domain}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name, domain=domain)
        tmp = mo_path.with_suffix(".mo.tmp")
        try:
            with tmp.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=True)
            tmp.replace(mo_path)
        except OSError as exc:  # a read-only install: the packaged .mo must do
            log.warning("cannot compile %s: %s", po_path, exc)
            continue
        built.append(mo_path)
    return built


def includeme(config) -> None:
    compile_catalogs()
    config.add_translation_dirs("backoffice:locale/")
    config.set_locale_negotiator(negotiate_locale)
    config.add_request_method(
        request_formatter_factory(config.registry.settings), "fmt", reify=True
    )
