"""The owner's pages: payment methods of the store, and an order's payments and refunds."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.interfaces import IRoutesMapper, ISecurityPolicy
from pyramid.view import view_config
from sqlalchemy import select

from backoffice.i18n import _
from backoffice.models import AuditEntry, Order, OrderEvent, Payment
from backoffice.orders.errors import OrderError
from backoffice.orders.statuses import Labels
from backoffice.payments.configs import GatewaySettings
from backoffice.payments.enums import PaymentState, RefundMethod
from backoffice.payments.ledger import lock_order, record_payment
from backoffice.payments.services import (
    PaymentRefused,
    order_method,
    order_paid_minor,
    parse_amount,
    refund_order,
)
from payments.config import secret_fields
from payments.errors import ConfigError, ConfigurationError, GatewayLoadError, UnknownGateway
from payments.money import Money

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


# What the refund and payment forms say for each refusal of the domain.
REFUSALS = {
    "not_found": _("There is no such order."),
    "nothing_to_refund": _("This order has no payment left to refund."),
    "refund_exceeds_refundable": _("At most ${left} can be refunded."),
    "provider_cannot_refund": _(
        "${gateway} cannot make this refund: make it in the provider's dashboard, "
        "then record it here as a refund made elsewhere."
    ),
    "gateway_not_installed": _(
        "The payment method ${gateway} is no longer installed on this server: "
        "use the provider's dashboard, or ask the operator to reinstall it."
    ),
    "provider_refund_failed": _("The refund did not go through: ${error}"),
    "payment_exceeds_due": _("At most ${due} is left to pay."),
    "reason_required": _("Say why and how the money was returned."),
}
REASON_LIMIT = 500


def refusal_message(request, order: Order, exc: OrderError) -> str:
    details = exc.details
    mapping = {
        "left": request.fmt.money(details.get("refundable_minor", 0), order.currency),
        "due": request.fmt.money(details.get("due_minor", 0), order.currency),
        "gateway": details.get("gateway", ""),
        "error": exc.message,
    }
    message = REFUSALS.get(exc.code, _("This cannot be done: ${error}"))
    return request.localizer.translate(_(message, mapping=mapping))


def _amount(request, order: Order) -> Money | None:
    try:
        return parse_amount(request.POST.get("amount"), order.currency)
    except PaymentRefused as exc:
        request.session.flash(
            request.localizer.translate(_(exc.message, mapping=exc.mapping)), "error"
        )
        return None


@view_config(route_name="payments.refund", request_method="POST", permission="orders.refund")
def refund(request):
    """The order page's refund form: ``amount`` (empty = all that is left),
    ``method`` (``provider``: through the gateway; ``recorded``: made elsewhere,
    e.g. cash back or in the provider's dashboard), ``reason``, ``csrf_token``."""
    actor = staff_only(request)
    order = request.db.get(Order, int(request.matchdict["id"]))
    if order is None:
        raise HTTPNotFound()
    translate = request.localizer.translate
    method = request.POST.get("method", RefundMethod.PROVIDER)
    reason = (request.POST.get("reason") or "").strip()[:REASON_LIMIT]
    if method not in set(RefundMethod):
        raise HTTPBadRequest()
    amount = None  # all that is left
    if request.POST.get("amount", "").strip():
        amount = _amount(request, order)
        if amount is None:
            return HTTPSeeOther(order_page_url(request, order.id))
    try:
        row = refund_order(
            request.db,
            request.payment_settings,
            order.id,
            amount,
            actor=actor,
            method=RefundMethod(method),
            reason=reason,
        )
    except OrderError as exc:
        request.session.flash(refusal_message(request, order, exc), "error")
    else:
        money = request.fmt.money(row.amount_minor, row.currency)
        message = (
            _("Refunded ${amount}.")
            if row.status == PaymentState.SUCCEEDED
            else _("Refund of ${amount} requested; waiting for the provider.")
        )
        request.session.flash(translate(_(message, mapping={"amount": money})), "success")
    return HTTPSeeOther(order_page_url(request, order.id))


@view_config(route_name="payments.record", request_method="POST", permission="orders.refund")
def record_received(request):
    """Money received outside the gateways (a bank transfer, cash on delivery):
    ``amount`` (empty = all that is due), ``note``."""
    actor = staff_only(request)
    order = lock_order(request.db, int(request.matchdict["id"]))
    if order is None:
        raise HTTPNotFound()
    translate = request.localizer.translate
    if request.POST.get("amount", "").strip():
        amount = _amount(request, order)
        if amount is None:
            return HTTPSeeOther(order_page_url(request, order.id))
    else:
        amount = Money(order.total_minor - order_paid_minor(request.db, order), order.currency)
    note = (request.POST.get("note") or "").strip()[:REASON_LIMIT]
    try:
        row = record_payment(
            request.db,
            order,
            amount,
            actor=actor,
            gateway=order_method(request.db, order),
            note=note,
        )
    except OrderError as exc:
        request.session.flash(refusal_message(request, order, exc), "error")
    else:
        money = request.fmt.money(row.amount_minor, row.currency)
        request.session.flash(
            translate(_("Payment of ${amount} recorded.", mapping={"amount": money})), "success"
        )
    return HTTPSeeOther(order_page_url(request, order.id))


def order_page_url(request, order_id: int) -> str:
    """The back-office order page when it exists, else this feature's payments page."""
    if request.registry.getUtility(IRoutesMapper).get_route("orders.detail") is not None:
        return request.route_url("orders.detail", id=order_id)
    return request.route_url("payments.order", id=order_id)
