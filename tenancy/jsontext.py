"""The one JSON loader for anything that comes from outside: bounded size and depth.

``json.loads`` recurses once per nesting level, so a body of 100,000 ``[``
raises ``RecursionError`` (not ``ValueError``) and every caller that only
expected a ``ValueError`` turns it into a 500. It also accepts ``NaN`` and
``Infinity``, and reads ``1e400`` as an infinite float. Here the nesting is
counted before parsing (strings skipped), numbers with a fraction or an
exponent become exact ``Decimal`` (so ``1e29`` is never a float that some
later ``int()`` or database column chokes on) and the non-standard constants
are refused. Every failure is a ``JSONInputError``, a ``ValueError``.

It lives at the bottom of the core (tenancy) so the backups, the back office
and the store API share it; ``payments`` imports nothing of ours, so the core
checks a notification's body with it before a gateway parses it.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 40

# Strings first (they may hold brackets), then any bracket: one pass, in C.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class JSONInputError(ValueError):
    """The text is not JSON we accept; the message says why (safe to show)."""


def nesting_depth(data: bytes) -> int:
    depth = deepest = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _number(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_DIGITS:
        raise JSONInputError("a number in the JSON is too long")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the scanner hands over valid numbers
        raise JSONInputError("a number in the JSON is not valid") from None


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise JSONInputError("a number in the JSON is too long")
    return int(text)


def _constant(name: str):
    raise JSONInputError(f"{name} is not JSON")


def loads(data: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` (UTF-8 bytes or text) or raise ``JSONInputError``."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise JSONInputError(f"the JSON is larger than {max_bytes} bytes")
    if nesting_depth(raw) > max_depth:
        raise JSONInputError(f"the JSON is nested deeper than {max_depth} levels")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONInputError("the JSON is not UTF-8") from None
    try:
        return json.loads(text, parse_float=_number, parse_int=_integer, parse_constant=_constant)
    except JSONInputError:
        raise
    except (ValueError, RecursionError) as exc:
        raise JSONInputError(f"not JSON: {str(exc)[:100]}") from None
