"""The owner's pages: payment methods of the store, and an order's payments and refunds."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.interfaces import IRoutesMapper, ISecurityPolicy
from pyramid.view import view_config
from sqlalchemy import select

from backoffice.audit.services import record
from backoffice.i18n import _
from backoffice.models import AuditEntry, Order, OrderEvent, Payment
from backoffice.orders.statuses import Labels
from backoffice.payments.configs import GatewaySettings
from backoffice.payments.services import PaymentRefused, refund_order
from payments.config import secret_fields
from payments.errors import ConfigError, ConfigurationError, GatewayLoadError, UnknownGateway

T = "backoffice:payments/templates/"
CONFIGURE = "settings.manage"  # gateway credentials: the owner only (roles.py)


def staff_only(request) -> str:
    """The signed-in staff member's e-mail; refuses if the app has no security policy.

    Pyramid ignores ``permission=`` when no policy is configured: these pages
    must not open to everyone in an app assembled without ``backoffice.security``.
    """
    if request.registry.queryUtility(ISecurityPolicy) is None or request.identity is None:
        raise HTTPForbidden()
    return request.identity.email


def gateway_title(request, gateway) -> str:
    """The gateway's title in the reader's language (English, marked ``N_``, in payments/)."""
    return request.localizer.translate(_(gateway.title))


def _gateway_or_404(settings: GatewaySettings, name: str):
    try:
        gateway = settings.gateways.get(name)
    except (UnknownGateway, GatewayLoadError):
        raise HTTPNotFound() from None
    if settings.gateways.is_hidden(gateway):
        raise HTTPNotFound()
    return gateway


@view_config(
    route_name="payments.gateways",
    request_method="GET",
    permission=CONFIGURE,
    renderer=T + "gateways.jinja2",
)
def gateway_list(request):
    staff_only(request)
    return {"gateways": request.payment_settings.summaries()}


@view_config(
    route_name="payments.gateway",
    request_method="GET",
    permission=CONFIGURE,
    renderer=T + "gateway.jinja2",
)
def gateway_form(request):
    staff_only(request)
    settings: GatewaySettings = request.payment_settings
    gateway = _gateway_or_404(settings, request.matchdict["gateway"])
    summary = settings.summary(gateway.name)
    values = {f.name: summary.settings.get(f.name, f.default) for f in gateway.config_schema}
    return _form(gateway, summary, values, {})


def _form(gateway, summary, values, errors):
    secrets = secret_fields(gateway.config_schema)
    # Secrets never go back to the browser: only whether one is stored.
    shown = {k: ("" if k in secrets else v) for k, v in values.items()}
    return {
        "gateway": gateway,
        "summary": summary,
        "values": shown,
        "errors": errors,
        "secrets": secrets,
    }


@view_config(
    route_name="payments.gateway",
    request_method="POST",
    permission=CONFIGURE,
    renderer=T + "gateway.jinja2",
)
def gateway_save(request):
    actor = staff_only(request)
    settings: GatewaySettings = request.payment_settings
    gateway = _gateway_or_404(settings, request.matchdict["gateway"])
    post = request.POST
    values = {f.name: post.get(f.name, "") for f in gateway.config_schema}
    for field in gateway.config_schema:
        if field.kind == "bool":
            values[field.name] = field.name in post
    clear = frozenset(
        name for name in secret_fields(gateway.config_schema) if post.get(f"clear_{name}")
    )
    position = post.get("position", "").strip()
    try:
        settings.save(
            gateway.name,
            values,
            clear=clear,
            position=int(position) if position.lstrip("-").isdigit() else None,
        )
    except ConfigError as exc:
        request.response.status = 400
        return _form(gateway, settings.summary(gateway.name), values, exc.errors)
    request.session.flash(
        request.localizer.translate(
            _("Settings of ${gateway} saved.", mapping={"gateway": gateway_title(request, gateway)})
        ),
        "success",
    )
    _log_change(request, actor, gateway.name, "saved")
    return HTTPSeeOther(request.route_url("payments.gateways"))


@view_config(route_name="payments.gateway_enabled", request_method="POST", permission=CONFIGURE)
def gateway_enabled(request):
    actor = staff_only(request)
    settings: GatewaySettings = request.payment_settings
    gateway = _gateway_or_404(settings, request.matchdict["gateway"])
    enabled = request.POST.get("enabled") == "1"
    translate = request.localizer.translate
    title = gateway_title(request, gateway)
    try:
        settings.set_enabled(gateway.name, enabled)
    except ConfigurationError:
        request.session.flash(
            translate(
                _(
                    "${gateway} needs valid settings before it can be enabled.",
                    mapping={"gateway": title},
                )
            ),
            "error",
        )
        return HTTPSeeOther(request.route_url("payments.gateway", gateway=gateway.name))
    message = _("${gateway} enabled.") if enabled else _("${gateway} disabled.")
    request.session.flash(translate(_(message, mapping={"gateway": title})), "success")
    _log_change(request, actor, gateway.name, "enabled" if enabled else "disabled")
    return HTTPSeeOther(request.route_url("payments.gateways"))


def _log_change(request, actor: str, gateway: str, what: str) -> None:
    # Secrets appear as set / not set only: the audit log must not become a copy of them.
    summary = request.payment_settings.summary(gateway)
    after = {
        "enabled": summary.enabled,
        "position": summary.position,
        **summary.settings,
        **{k: ("set" if v else "not set") for k, v in summary.secrets_set.items()},
    }
    request.db.add(
        AuditEntry(
            actor=actor,
            action=f"payments.gateway.{what}",
            entity="gateway",
            entity_id=gateway,
            after=after,
        )
    )


@view_config(
    route_name="payments.order",
    request_method="GET",
    permission="orders.view",
    renderer=T + "order_payments.jinja2",
)
def order_payments_page(request):
    staff_only(request)
    order = request.db.get(Order, int(request.matchdict["id"]))
    if order is None:
        raise HTTPNotFound()
    payments = list(
        request.db.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id))
    )
    events = list(
        request.db.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        )
    )
    return {
        "order": order,
        "payments": payments,
        "events": events,
        "labels": Labels(request.localizer.translate),
    }


@view_config(route_name="payments.refund", request_method="POST", permission="orders.refund")
def refund(request):
    """The order page's refund form: ``amount`` (empty = all that is left), ``csrf_token``."""
    actor = staff_only(request)
    order_id = int(request.matchdict["id"])
    translate = request.localizer.translate
    try:
        row = refund_order(request, order_id, request.POST.get("amount"), actor)
    except LookupError:
        raise HTTPNotFound() from None
    except PaymentRefused as exc:
        request.session.flash(translate(_(exc.message, mapping=exc.mapping)), "error")
    else:
        amount = request.fmt.money(row.amount_minor, row.currency)
        record(
            request,
            "order.refund",
            "order",
            order_id,
            after={
                "gateway": row.gateway,
                "amount_minor": row.amount_minor,
                "currency": row.currency,
                "status": row.status,
            },
        )
        message = (
            _("Refunded ${amount}.")
            if row.status == "succeeded"
            else _("Refund of ${amount} requested; waiting for the provider.")
        )
        request.session.flash(translate(_(message, mapping={"amount": amount})), "success")
    return HTTPSeeOther(order_page_url(request, order_id))


def order_page_url(request, order_id: int) -> str:
    """The back-office order page when it exists, else this feature's payments page."""
    if request.registry.getUtility(IRoutesMapper).get_route("orders.detail") is not None:
        return request.route_url("orders.detail", id=order_id)
    return request.route_url("payments.order", id=order_id)
