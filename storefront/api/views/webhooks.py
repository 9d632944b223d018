"""Webhook subscriptions of the store (list and get: read; create, disable, delete:
write), through the back office's services: the same URL checks, the signing
secret encrypted at rest and returned once, on creation."""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from backoffice.audit.services import record
from backoffice.models import WebhookEndpoint
from backoffice.webhooks import services
from storefront.api import paging, represent
from storefront.api.auth import require_key
from storefront.api.errors import not_found
from storefront.api.params import updated_after
from storefront.api.refusals import invalid_fields
from storefront.api.views import API_VIEW, actor, body_of, json_response
from tenancy.settings import as_bool


def _endpoint(request) -> WebhookEndpoint:
    endpoint = request.db.get(WebhookEndpoint, int(request.matchdict["id"]))
    if endpoint is None:
        raise not_found("webhook")
    return endpoint


def _public(endpoint: WebhookEndpoint) -> dict:
    return {k: v for k, v in represent.webhook(endpoint).items() if k not in ("id",)}


@view_config(route_name="api.webhooks", request_method="GET", **API_VIEW)
def list_webhooks(request):
    require_key(request, "read")
    statement = updated_after(select(WebhookEndpoint), WebhookEndpoint.updated_at, request.params)
    return json_response(
        paging.page(statement, WebhookEndpoint.id, request.params, request.db, represent.webhook)
    )


@view_config(route_name="api.webhooks", request_method="POST", **API_VIEW)
def create_webhook(request):
    key = require_key(request, "write")
    payload = body_of(request, "WebhookCreate")
    try:
        endpoint, secret = services.create_endpoint(
            request.db,
            request.registry.control.keyring,
            request.tenant.id,
            payload["url"],
            payload["events"],
            payload.get("description", ""),
            allow_private=as_bool(request.registry.settings, "backoffice.webhook_allow_private"),
        )
    except services.EndpointError as exc:
        raise invalid_fields(request, {exc.field: exc.args[0]}) from None
    # The signing secret never reaches the audit log.
    record(
        request, "webhook.create", "webhook", endpoint.id, after=_public(endpoint), actor=actor(key)
    )
    return json_response(
        {"webhook": represent.webhook(endpoint), "secret": secret},
        201,
        {"Location": request.route_url("api.webhook", id=endpoint.id)},
    )


@view_config(route_name="api.webhook", request_method="GET", **API_VIEW)
def get_webhook(request):
    require_key(request, "read")
    return json_response(represent.webhook(_endpoint(request)))


@view_config(route_name="api.webhook_disable", request_method="POST", **API_VIEW)
def disable_webhook(request):
    key = require_key(request, "write")
    endpoint = _endpoint(request)
    if services.disable_endpoint(endpoint):
        request.db.flush()
        record(
            request,
            "webhook.disable",
            "webhook",
            endpoint.id,
            before={"is_active": True},
            after={"is_active": False},
            actor=actor(key),
        )
    return json_response(represent.webhook(endpoint))


@view_config(route_name="api.webhook", request_method="DELETE", **API_VIEW)
def delete_webhook(request):
    key = require_key(request, "write")
    endpoint = _endpoint(request)
    before = _public(endpoint)
    services.delete_endpoint(request.db, endpoint)
    record(request, "webhook.delete", "webhook", endpoint.id, before=before, actor=actor(key))
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response
