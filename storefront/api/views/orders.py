"""Orders: create (write), list and get (read), change status and add a note (write),
and the public-safe status of one order for reseller sites (read)."""

from __future__ import annotations

from datetime import datetime

from pyramid.view import view_config
from pyramid_retry import is_last_attempt
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backoffice.models import Order, OrderEvent
from backoffice.web.input import InputError, parse_datetime
from backoffice.webhooks.events import ORDER_CREATED, ORDER_STATUS_CHANGED, emit_for_order
from storefront.api import paging, represent
from storefront.api.auth import require_key
from storefront.api.errors import bad_request, not_found
from storefront.api.flow import next_statuses
from storefront.api.idempotency import REFERENCE_SCOPE, claim_all, idempotency_key
from storefront.api.jsonbody import canonical_hash, dumps
from storefront.api.ordering import change_status, place_order
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
    order = place_order(request.db, payload, actor=actor(key))
    body = dumps(represent.order(order))
    claims.complete(201, body, order.id)
    emit_for_order(request, ORDER_CREATED, order)
    return json_response(body, 201, {"Location": request.route_url("api.order", id=order.id)})


def _datetime_param(params, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    # Stored naive in UTC: an offset given by the client is converted, none means UTC.
    try:
        return parse_datetime(raw)
    except InputError as exc:
        message = f"{name} must be an ISO 8601 date-time ({exc})"
        raise bad_request(message, {"parameter": name}) from None


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
        _datetime_param(params, "created_after"),
        _datetime_param(params, "created_before"),
    )
    if since is not None:
        statement = statement.where(Order.created_at >= since)
    if until is not None:
        statement = statement.where(Order.created_at < until)
    return json_response(paging.page(statement, Order.id, params, request.db, represent.order))


def _order(request, *, lock: bool = False) -> Order:
    statement = select(Order).where(Order.id == int(request.matchdict["id"]))
    if lock:
        statement = statement.with_for_update()
    order = request.db.scalar(statement)
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
    previous = order.status
    change_status(
        request.db,
        order,
        payload["status"],
        actor=actor(key),
        message=payload.get("message", ""),
        allowed=next_statuses(request.db, order.status),
    )
    emit_for_order(request, ORDER_STATUS_CHANGED, order, previous_status=previous)
    return json_response(represent.order(order))


@view_config(route_name="api.order_notes", request_method="POST", **API_VIEW)
def add_note(request):
    key = require_key(request, "write")
    payload = body_of(request, "NoteCreate")
    order = _order(request)
    note = OrderEvent(kind="note", actor=actor(key), message=payload["message"])
    order.events.append(note)
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
