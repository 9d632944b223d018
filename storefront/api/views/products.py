"""Product writes (write scope): create, change, archive, and stock set or adjusted.

The rules are the back office's (``backoffice.products.services``). A product
being changed is locked (``SELECT ... FOR UPDATE``) until the request commits,
so concurrent adjustments add up, a set is never lost in between, and stock
never goes below zero.
"""

from __future__ import annotations

from pyramid.view import view_config

from backoffice.audit.services import record
from backoffice.products import services
from storefront.api import represent
from storefront.api.auth import require_key
from storefront.api.errors import ApiError, not_found
from storefront.api.ordering import setting
from storefront.api.refusals import duplicate, invalid_fields
from storefront.api.views import API_VIEW, actor, body_of, json_response

# The API says ``active``; the back office and the model say ``is_active``.
TO_MODEL = {"active": "is_active"}
TO_API = {"is_active": "active"}


def currency(request) -> str:
    return setting(request.db, "currency", "EUR")


def refused(request, exc: services.ProductInvalid) -> ApiError:
    if isinstance(exc, services.SkuTaken):
        return duplicate(
            request, "duplicate_sku", "another product has this SKU", exc.errors, sku=exc.sku
        )
    return invalid_fields(request, exc.errors, TO_API)


def model_values(payload: dict) -> dict:
    return {TO_MODEL.get(name, name): value for name, value in payload.items()}


def locked_product(request):
    product = services.locked(request.db, sku=request.matchdict["sku"])
    if product is None:
        raise not_found("product")
    return product


def answer(request, product, status: int = 200, headers: dict | None = None):
    return json_response(represent.product(product, currency(request)), status, headers)


def changed(request, key, product, payload: dict):
    try:
        old, new = services.update_product(
            request.db, product, model_values(payload), currency(request)
        )
    except services.ProductInvalid as exc:
        raise refused(request, exc) from None
    if new:
        record(
            request,
            "product.update",
            "product",
            product.id,
            before=old,
            after=new,
            actor=actor(key),
        )
    return answer(request, product)


@view_config(route_name="api.products", request_method="POST", **API_VIEW)
def create_product(request):
    key = require_key(request, "write")
    payload = body_of(request, "ProductCreate")
    try:
        product = services.create_product(request.db, model_values(payload), currency(request))
    except services.ProductInvalid as exc:
        raise refused(request, exc) from None
    record(
        request,
        "product.create",
        "product",
        product.id,
        after=services.snapshot(product),
        actor=actor(key),
    )
    location = request.route_url("api.product", sku=product.sku)
    return answer(request, product, 201, {"Location": location})


@view_config(route_name="api.product", request_method="PATCH", **API_VIEW)
def update_product(request):
    key = require_key(request, "write")
    payload = body_of(request, "ProductUpdate")
    return changed(request, key, locked_product(request), payload)


@view_config(route_name="api.product_archive", request_method="POST", **API_VIEW)
def archive_product(request):
    """Archived products stay in past orders but can no longer be ordered."""
    key = require_key(request, "write")
    return changed(request, key, locked_product(request), {"active": False})


@view_config(route_name="api.product_stock", request_method="POST", **API_VIEW)
def change_stock(request):
    key = require_key(request, "write")
    payload = body_of(request, "StockChange")
    product = locked_product(request)
    if "set" in payload:
        return changed(request, key, product, {"stock": payload["set"]})
    before = product.stock
    try:
        services.adjust_stock(request.db, product, payload["adjust"])
    except services.StockTooLow as exc:
        raise ApiError(
            409,
            "out_of_stock",
            "not enough stock",
            {"available": {product.sku: exc.stock}, "adjust": payload["adjust"]},
        ) from None
    except services.ProductInvalid as exc:
        raise invalid_fields(request, exc.errors, {"stock": "adjust"}) from None
    record(
        request,
        "product.stock",
        "product",
        product.id,
        before={"stock": before},
        after={"stock": product.stock},
        actor=actor(key),
    )
    return answer(request, product)
