"""Signed cart tokens: a reseller site asks the API for a link that opens a ready cart.

A token is ``<base64url(JSON)>.<base64url(HMAC-SHA256)>``. The key is derived
from the deployment's session secret for this purpose and this store only
(``storefront-cart:v1:store:<id>``), so a token of store A does not verify on
store B, and no other signed value (a session cookie) can pass as a cart. The
payload repeats the store id and carries an expiry; the MAC is compared in
constant time before the payload is even parsed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from tenancy import jsontext

MAX_LINES = 50
MAX_QUANTITY = 999
MAX_TOKEN_LENGTH = 4096
DEFAULT_TTL = 24 * 3600
MIN_TTL, MAX_TTL = 60, 7 * 24 * 3600
VERSION = 1


class CartTokenError(ValueError):
    """Tampered, for another store, expired or malformed: the message is for logs only."""


@dataclass(frozen=True)
class CartToken:
    lines: tuple[tuple[str, int], ...]
    expires: int
    locale: str | None = None


def cart_key(secret: str, tenant_id: int) -> bytes:
    """This store's key for cart tokens, from the deployment's ``registry.cart_secret``."""
    label = f"storefront-cart:v{VERSION}:store:{tenant_id}".encode()
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_cart(key: bytes, tenant_id: int, lines, *, expires: int, locale: str | None = None) -> str:
    payload = {
        "v": VERSION,
        "s": tenant_id,
        "e": int(expires),
        "l": [[sku, int(quantity)] for sku, quantity in lines],
    }
    if locale:
        payload["lc"] = locale
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def verify_cart(key: bytes, tenant_id: int, token: str, now: float) -> CartToken:
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise CartTokenError("malformed cart token")
    body, mac = token.split(".")
    expected = _b64(hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), mac.encode("ascii", "replace")):
        raise CartTokenError("bad signature")
    try:
        payload = jsontext.loads(_unb64(body), max_bytes=MAX_TOKEN_LENGTH)
    except (binascii.Error, ValueError):
        raise CartTokenError("undecodable payload") from None
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise CartTokenError("unknown token version")
    if payload.get("s") != tenant_id:
        raise CartTokenError("token of another store")
    expires = payload.get("e")
    if not isinstance(expires, int) or expires < now:
        raise CartTokenError("expired")
    return CartToken(
        lines=_lines(payload.get("l")),
        expires=expires,
        locale=payload.get("lc") if isinstance(payload.get("lc"), str) else None,
    )


def _lines(raw) -> tuple[tuple[str, int], ...]:
    # Signed by us, so well formed unless the key leaked; checked all the same.
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_LINES:
        raise CartTokenError("bad lines")
    lines = []
    for item in raw:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], int)
            or not 0 < item[1] <= MAX_QUANTITY
        ):
            raise CartTokenError("bad line")
        lines.append((item[0], item[1]))
    return tuple(lines)
