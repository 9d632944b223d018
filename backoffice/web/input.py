"""Parsing what comes from outside: one helper per kind of value, used everywhere.

Python's own parsers are generous in ways that end as a 500 further on:
``int()`` and ``str.isdigit`` accept "²" and "٣", ``Decimal`` reads "1e29",
``json.loads`` recurses on ``[[[[...`` and reads ``NaN``, ``astimezone`` on
year 1 or 9999 overflows, a ``next`` with CR/LF or "é" breaks the ``Location``
header. Each helper here accepts the plain form only (ASCII digits, a bounded
range, a local path) and raises ``InputError`` (a ``ValueError``) with a message
that is safe to show; callers turn it into their own 400/422 or form error.

``GuardedExecutionPolicy`` is the outermost layer of the app: a path or query
string that is not UTF-8, or a body larger than ``backoffice.max_body_bytes``,
is a 400/413 before any tween, store lookup or view runs. It wraps
pyramid_retry's policy (``retry.attempts``, default 3), which sends a request
through again after a deadlock or lock wait timeout (``backoffice.views.errors``
marks those retryable).
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote_to_bytes

from pyramid.response import Response
from pyramid_retry import RetryableExecutionPolicy

from tenancy.jsontext import JSONInputError, loads
from tenancy.settings import as_int

__all__ = [
    "InputError",
    "JSONInputError",
    "json_body",
    "loads",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
    "read_body",
    "safe_local_path",
]

# A signed 64-bit column holds up to 9.2e18; nothing we parse gets near it.
MAX_INT = 10**18 - 1
ASCII_INT = re.compile(r"[+-]?[0-9]{1,18}")
ASCII_DECIMAL = re.compile(r"[+-]?[0-9]{1,15}(?:\.[0-9]{1,6})?")
# Dates a MariaDB DATETIME holds, with room for any UTC offset either side.
MIN_DATETIME = datetime(1000, 1, 2, tzinfo=UTC).replace(tzinfo=None)
MAX_DATETIME = datetime(9999, 12, 30, tzinfo=UTC).replace(tzinfo=None)
DEFAULT_MAX_BODY = 2 * 1024 * 1024
# RFC 3986 reserved and unreserved characters, and "%": kept as they are in a path.
URL_SAFE = "/?#[]@!$&'()*+,;=:-._~%"


class InputError(ValueError):
    """A value from outside we do not accept; the message is safe to show."""


class BodyTooLarge(InputError):
    pass


def parse_int(raw, *, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int:
    """An integer written in ASCII digits, within [minimum, maximum]."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not ASCII_INT.fullmatch(text):
        raise InputError("not a whole number")
    value = int(text)
    if not minimum <= value <= maximum:
        raise InputError(f"must be from {minimum} to {maximum}")
    return value


def parse_decimal(
    raw, *, places: int = 2, minimum: Decimal = Decimal(0), maximum: Decimal = Decimal(10**12)
) -> Decimal:
    """A plain decimal ("12.50"; no exponent, no "NaN"), at most ``places`` decimals."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not ASCII_DECIMAL.fullmatch(text):
        raise InputError("not an amount such as 12.50")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits valid decimals only
        raise InputError("not an amount such as 12.50") from None
    if -value.as_tuple().exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        raise InputError(f"at most {places} decimal places")
    if not minimum <= value <= maximum:
        raise InputError(f"must be from {minimum} to {maximum}")
    return value


def parse_datetime(raw) -> datetime:
    """ISO 8601 date or date-time -> naive UTC; no offset means UTC; years 1000-9999."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isascii() or len(text) > 40:
        raise InputError("not an ISO 8601 date-time")
    try:
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InputError("not an ISO 8601 date-time") from None
    naive = value.replace(tzinfo=None)
    if not MIN_DATETIME <= naive <= MAX_DATETIME:
        raise InputError("the date must be between the years 1000 and 9999")
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def safe_local_path(value, *, prefix: str = "/") -> str | None:
    """A path on this site under ``prefix`` fit for a ``Location`` header, or None.

    Never another host ("//evil", "/\\evil"), never a control character (CR/LF
    would inject headers); other non-ASCII is percent-encoded as UTF-8.
    """
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) > 2000:
        return None
    if "//" in value or "\\" in value:
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        return None
    return quote(value, safe=URL_SAFE)


def read_body(request, max_bytes: int) -> bytes:
    """The request body, refused (``BodyTooLarge``) beyond ``max_bytes``."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise BodyTooLarge(f"the body is larger than {max_bytes} bytes")
    body = request.body_file_seekable.read(max_bytes + 1)
    request.body_file_seekable.seek(0)
    if len(body) > max_bytes:
        raise BodyTooLarge(f"the body is larger than {max_bytes} bytes")
    return body


def json_body(request, max_bytes: int):
    """The body parsed by the shared JSON loader (size and depth bounded)."""
    return loads(read_body(request, max_bytes), max_bytes=max_bytes)


def _utf8(text: str) -> bool:
    try:
        text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return True


def undecodable(environ) -> str | None:
    """What of the request line is not UTF-8 (WSGI hands it over as Latin-1)."""
    for key in ("PATH_INFO", "SCRIPT_NAME"):
        if not _utf8(environ.get(key, "")):
            return "the path is not UTF-8"
    try:
        raw = environ.get("QUERY_STRING", "").encode("latin-1")
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeError:
        return "the query string is not UTF-8"
    return None


def _refusal(status: int, message: str) -> Response:
    # Before routing: the API's error envelope, which any client can read.
    code = "payload_too_large" if status == 413 else "bad_request"
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}})
    response = Response(
        body=body.encode(), status=status, content_type="application/json", charset="utf-8"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


class GuardedExecutionPolicy:
    """Refuse requests no view could read, then run the retrying policy."""

    def __init__(self, inner, max_body: int):
        self.inner, self.max_body = inner, max_body

    def __call__(self, environ, router):
        problem = undecodable(environ)
        if problem:
            return _refusal(400, problem)
        length = environ.get("CONTENT_LENGTH") or ""
        if length and not (length.isascii() and length.isdigit()):
            return _refusal(400, "bad Content-Length")
        if length and int(length) > self.max_body:
            return _refusal(413, f"the body is larger than {self.max_body} bytes")
        return self.inner(environ, router)


def includeme(config) -> None:
    settings = config.registry.settings
    config.include("pyramid_retry")
    given = {
        "retry.attempts": settings.get("retry.attempts") or "3",
        "backoffice.max_body_bytes": settings.get("backoffice.max_body_bytes")
        or str(DEFAULT_MAX_BODY),
    }
    attempts = as_int(given, "retry.attempts", minimum=1)
    max_body = as_int(given, "backoffice.max_body_bytes", minimum=1)
    # Set here, by the includer of pyramid_retry: this policy overrides its default one.
    config.set_execution_policy(
        GuardedExecutionPolicy(RetryableExecutionPolicy(attempts), max_body)
    )
