"""Orders: create (write), list and get (read), change status and add a note (write),
refunds (write; list: read), and the public-safe status of one order for reseller
sites (read). Orders are changed by the order domain (``backoffice.orders.service``,
``backoffice.payments``) only; its refusals become API errors (``ordering``)."""

from __future__ import annotations

from pyramid.view import view_config
from pyramid_retry import is_last_attempt
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backoffice.models import Order, Payment
from backoffice.orders import service
from backoffice.orders.enums import OrderSource
from backoffice.payments.enums import LedgerEntryKind, RefundMethod
from backoffice.payments.services import refund_order
from payments.money import Money
from storefront.api import paging, represent
from storefront.api.auth import require_key
from storefront.api.errors import not_found
from storefront.api.idempotency import REFERENCE_SCOPE, claim_all, idempotency_key
from storefront.api.jsonbody import canonical_hash, dumps
from storefront.api.ordering import domain_errors
from storefront.api.params import datetime_param, updated_after
from storefront.api.views import API_VIEW, body_of, json_response

ORDER_FILTERS = ("status", "payment_status", "external_reference")


def actor(key) -> str:
    return f"api:{key.prefix}"


@view_config(route_name="api.orders", request_method="POST", **API_VIEW)
def create_order(request):
    key = require_key(request, "write")
    payload = body_of(request, "OrderCreate")
    wanted = []
    idem = idempotency_key(request)
    if idem is not None:
        wanted.append((key.prefix, idem))
    if payload.get("external_reference"):
        wanted.append((REFERENCE_SCOPE, payload["external_reference"]))
    claims = claim_all(
        request.db,
        wanted,
        canonical_hash("POST /orders", payload),
        last_attempt=is_last_attempt(request),
    )
    if claims.replay is not None:
        stored = claims.replay
        claims.complete(stored.status_code, stored.response_body.encode(), stored.order_id)
        return json_response(
            stored.response_body.encode(), stored.status_code, {"Idempotent-Replayed": "true"}
        )
    with domain_errors():
        order = service.place_order(
            request.db,
            payload,
            actor=actor(key),
            source=OrderSource.API,
            message="placed through the store API",
        )
    body = dumps(represent.order(order))
    claims.complete(201, body, order.id)
    return json_response(body, 201, {"Location": request.route_url("api.order", id=order.id)})


@view_config(route_name="api.orders", request_method="GET", **API_VIEW)
def list_orders(request):
    require_key(request, "read")
    params = request.params
    statement = select(Order).options(selectinload(Order.lines))
    for name in ORDER_FILTERS:
        if params.get(name):
            statement = statement.where(getattr(Order, name) == params[name])
    if params.get("email"):
        statement = statement.where(Order.customer_email == params["email"].strip().lower())
    since, until = (
        datetime_param(params, "created_after"),
        datetime_param(params, "created_before"),
    )
    if since is not None:
        statement = statement.where(Order.created_at >= since)
    if until is not None:
        statement = statement.where(Order.created_at < until)
    statement = updated_after(statement, Order.updated_at, params)
    return json_response(paging.page(statement, Order.id, params, request.db, represent.order))


def _order(request, *, lock: bool = False) -> Order:
    order_id = int(request.matchdict["id"])
    if lock:
        order = service.lock_order(request.db, order_id)
    else:
        order = request.db.scalar(select(Order).where(Order.id == order_id))
    if order is None:
        raise not_found("order")
    return order


@view_config(route_name="api.order", request_method="GET", **API_VIEW)
def get_order(request):
    require_key(request, "read")
    return json_response(represent.order(_order(request)))


@view_config(route_name="api.order_status_change", request_method="POST", **API_VIEW)
def post_status(request):
    key = require_key(request, "write")
    payload = body_of(request, "StatusChange")
    order = _order(request, lock=True)
    with domain_errors():
        service.change_status(
            request.db,
            order,
            payload["status"],
            request.order_flow,
            actor=actor(key),
            message=payload.get("message", ""),
        )
    request.db.flush()
    return json_response(represent.order(order))


@view_config(route_name="api.order_notes", request_method="POST", **API_VIEW)
def add_note(request):
    key = require_key(request, "write")
    payload = body_of(request, "NoteCreate")
    order = _order(request)
    note = service.add_note(request.db, order, payload["message"], actor=actor(key))
    request.db.flush()
    return json_response(represent.event(note), 201)


@view_config(route_name="api.order_status", request_method="GET", **API_VIEW)
def order_status(request):
    require_key(request, "read")
    order = request.db.scalar(
        select(Order)
        .options(selectinload(Order.lines))
        .where(Order.status_token == request.matchdict["token"])
    )
    if order is None:
        raise not_found("order")
    return json_response(represent.order_status(order))


@view_config(route_name="api.order_refunds", request_method="POST", **API_VIEW)
def create_refund(request):
    """A refund of the order: through its payment provider (``method: provider``,
    the default) or recorded as made elsewhere (``recorded``, with a reason).
    ``amount_minor`` absent: all that is left. ``Idempotency-Key`` as for orders."""
    key = require_key(request, "write")
    payload = body_of(request, "RefundCreate")
    order = _order(request)
    idem = idempotency_key(request)
    path = f"POST /orders/{order.id}/refunds"
    claims = claim_all(
        request.db, [(key.prefix, idem)] if idem else [], canonical_hash(path, payload)
    )
    if claims.replay is not None:
        stored = claims.replay
        return json_response(
            stored.response_body.encode(), stored.status_code, {"Idempotent-Replayed": "true"}
        )
    amount = payload.get("amount_minor")  # JSON Schema's integer admits 330.0
    amount = int(amount) if amount is not None else None
    with domain_errors():
        row = refund_order(
            request.db,
            request.payment_settings,
            order.id,
            Money(amount, order.currency) if amount is not None else None,
            actor=actor(key),
            method=RefundMethod(payload.get("method", RefundMethod.PROVIDER)),
            reason=payload.get("reason", ""),
        )
    request.db.flush()
    body = dumps(represent.refund(row))
    claims.complete(201, body, order.id)
    return json_response(body, 201)


@view_config(route_name="api.order_refunds", request_method="GET", **API_VIEW)
def list_refunds(request):
    require_key(request, "read")
    order = _order(request)
    rows = request.db.scalars(
        select(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.kind.in_((LedgerEntryKind.REFUND, LedgerEntryKind.REFUND_PENDING)),
        )
        .order_by(Payment.id)
    )
    return json_response({"data": [represent.refund(r) for r in rows]})
