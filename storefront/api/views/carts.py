"""Signed carts for reseller sites (write): a link to the store's hosted checkout."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pyramid.view import view_config
from sqlalchemy import select

from backoffice.models import Product
from storefront.api.auth import require_key
from storefront.api.errors import invalid
from storefront.api.views import API_VIEW, body_of, json_response
from storefront.checkout.carts import DEFAULT_TTL, cart_key, sign_cart


@view_config(route_name="api.carts", request_method="POST", **API_VIEW)
def create_cart(request):
    require_key(request, "write")
    payload = body_of(request, "CartCreate")
    lines: dict[str, int] = {}
    for line in payload["lines"]:
        lines[line["sku"]] = min(lines.get(line["sku"], 0) + line["quantity"], 999)
    sold = set(
        request.db.scalars(
            select(Product.sku).where(Product.sku.in_(list(lines)), Product.is_active.is_(True))
        )
    )
    unknown = sorted(sku for sku in lines if sku not in sold)
    if unknown:
        raise invalid("unknown or inactive products", {"skus": unknown})
    expires = int(time.time()) + payload.get("expires_in", DEFAULT_TTL)
    token = sign_cart(
        cart_key(request.registry.cart_secret, request.tenant.id),
        request.tenant.id,
        lines.items(),
        expires=expires,
        locale=payload.get("locale"),
    )
    return json_response(
        {
            "token": token,
            "url": request.route_url("checkout.cart_token", token=token),
            "expires_at": datetime.fromtimestamp(expires, UTC).replace(tzinfo=None).isoformat()
            + "Z",
            "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
        },
        201,
    )
