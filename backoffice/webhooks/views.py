"""The owner's webhook pages: endpoints (add, disable) and the delivery log."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from backoffice.audit.services import record as audit
from backoffice.i18n import _
from backoffice.models import WebhookEndpoint
from backoffice.webhooks import services
from backoffice.webhooks.events import EVENT_TYPES
from tenancy.settings import as_bool

PERMISSION = "api.manage"
STATES = {
    "pending": _("Pending"),
    "retrying": _("Retrying"),
    "delivered": _("Delivered"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
}


def _public(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
    }


def _page(request, **extra) -> dict:
    return {
        "endpoints": services.endpoints(request.db),
        "event_types": EVENT_TYPES,
        "errors": {},
        "form": {},
        "secret": None,
        **extra,
    }


@view_config(
    route_name="webhooks.list",
    request_method="GET",
    permission=PERMISSION,
    renderer="backoffice:templates/admin/webhooks/list.jinja2",
)
def list_endpoints(request):
    return _page(request)


@view_config(
    route_name="webhooks.list",
    request_method="POST",
    permission=PERMISSION,
    renderer="backoffice:templates/admin/webhooks/list.jinja2",
)
def add_endpoint(request):
    form = {
        "url": request.POST.get("url", ""),
        "description": request.POST.get("description", ""),
        "events": request.POST.getall("events"),
    }
    allow_private = as_bool(request.registry.settings, "backoffice.webhook_allow_private")
    try:
        endpoint, secret = services.create_endpoint(
            request.db,
            request.registry.control.keyring,
            request.tenant.id,
            form["url"],
            form["events"],
            form["description"],
            allow_private=allow_private,
        )
    except services.EndpointError as exc:
        request.response.status = 422
        return _page(request, errors={"url": exc.args[0]}, form=form)
    # The signing secret never reaches the log.
    audit(request, "webhook.create", "webhook", endpoint.id, after=_public(endpoint))
    return _page(request, secret=secret, created=endpoint)


@view_config(route_name="webhooks.disable", request_method="POST", permission=PERMISSION)
def disable_endpoint(request):
    endpoint = request.db.get(WebhookEndpoint, int(request.matchdict["id"]))
    if endpoint is None:
        raise HTTPNotFound()
    if services.disable_endpoint(endpoint):
        audit(
            request,
            "webhook.disable",
            "webhook",
            endpoint.id,
            before={"is_active": True},
            after={"is_active": False},
        )
    request.session.flash(request.localizer.translate(_("The endpoint was disabled.")), "success")
    return HTTPSeeOther(request.route_url("webhooks.list"))


@view_config(
    route_name="webhooks.deliveries",
    request_method="GET",
    permission=PERMISSION,
    renderer="backoffice:templates/admin/webhooks/deliveries.jinja2",
)
def deliveries(request):
    translate = request.localizer.translate
    return {
        "deliveries": services.recent_deliveries(request.db),
        "state_label": lambda state: translate(STATES[state]) if state in STATES else state,
    }
