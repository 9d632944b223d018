"""Starting payments and refunding them: the core's side of a gateway call.

``start_payment`` is what the hosted checkout calls; it never marks anything
paid. ``refund_order`` refunds through the provider or records a refund made
elsewhere, with the order row locked for the whole call to the provider.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.i18n import _
from backoffice.models import Checkout, Order, OrderEvent, Payment
from backoffice.orders.enums import OrderEventKind
from backoffice.orders.errors import OrderNotFound, RefundRefused, RefundTooLarge
from backoffice.payments.configs import GatewaySettings
from backoffice.payments.enums import PaymentState, RefundMethod
from backoffice.payments.ledger import (
    MANUAL_GATEWAY,
    REFUND_PENDING,
    REFUNDED,
    add_event,
    book_refund,
    check_refund,
    lock_order,
    order_money,
    order_payments,
    paid_total,
    refund_source,
    refundable_minor,
    refunded_for,
    refunded_total,
)
from payments.errors import (
    ConfigurationError,
    GatewayLoadError,
    NotSupported,
    PaymentError,
    ProviderError,
    UnknownGateway,
)
from payments.interfaces import PaymentRequest, PaymentStart, RefundRequest
from payments.money import Money


class PaymentRefused(Exception):
    """Shown to the person who asked; ``message`` is a translation string."""

    def __init__(self, message, mapping: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.mapping = mapping or {}


def gateway_settings(request) -> GatewaySettings:
    """``request.payment_settings``: this store's gateway configurations."""
    return GatewaySettings(
        request.db,
        request.registry.control.keyring,
        request.tenant.id,
        request.registry.payment_gateways,
    )


def start_payment(
    request, order: Order, gateway_name: str, return_url: str, cancel_url: str | None = None
) -> PaymentStart:
    """How to send the customer to pay *order* with one of the store's enabled gateways."""
    settings: GatewaySettings = request.payment_settings
    gateway = installed_gateway(settings, gateway_name)
    summary = settings.summary(gateway_name)
    if not summary.enabled or settings.gateways.is_hidden(gateway):
        raise PaymentRefused(_("This payment method is not available."))
    if not gateway.capabilities.accepts(order.currency):
        raise PaymentRefused(
            _("This payment method does not accept ${currency}."), {"currency": order.currency}
        )
    attempt = _attempts(request.db, order.id, gateway_name) + 1
    payment_request = PaymentRequest(
        # What the shopper quotes on a bank transfer is the number they see; an online
        # provider reports our id back in its notifications (``ledger._as_id``).
        order_reference=order.number if gateway.capabilities.offline else str(order.id),
        amount=order_money(order),
        description=f"Order {order.number}",
        return_url=return_url,
        cancel_url=cancel_url or return_url,
        notify_url=request.route_url("payments.notify", gateway=gateway_name),
        # Stable per attempt: a retried start does not open a second charge.
        idempotency_key=f"order-{order.id}-{gateway_name}-{attempt}",
        customer_email=order.customer_email or None,
        locale=order.locale or "en",
    )
    start = gateway.start_payment(payment_request, settings.config_for(gateway_name))
    request.db.add(
        OrderEvent(
            order_id=order.id,
            kind=OrderEventKind.PAYMENT_STARTED,
            message=gateway_name,
            data={
                "gateway": gateway_name,
                "attempt": attempt,
                "provider_reference": start.provider_reference,
            },
        )
    )
    return start


def installed_gateway(settings: GatewaySettings, name: str):
    """The gateway, or a refusal that says it is gone (uninstalled or broken plugin)."""
    try:
        return settings.gateways.get(name)
    except (UnknownGateway, GatewayLoadError):
        raise PaymentRefused(
            _(
                "The payment method ${gateway} is no longer installed on this server: "
                "use the provider's dashboard, or ask the operator to reinstall it."
            ),
            {"gateway": name},
        ) from None


def _attempts(db: Session, order_id: int, gateway_name: str) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(
                OrderEvent.order_id == order_id,
                OrderEvent.kind == OrderEventKind.PAYMENT_STARTED,
                OrderEvent.message == gateway_name,
            )
        )
        or 0
    )


def parse_amount(text: str | None, currency: str) -> Money | None:
    """None for an empty field (a full refund); ``PaymentRefused`` when unreadable."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return Money.from_decimal(text, currency)
    except (ValueError, TypeError):
        raise PaymentRefused(
            _('"${amount}" is not an amount in ${currency}.'),
            {"amount": text[:40], "currency": currency},
        ) from None


class ProviderCannotRefund(RefundRefused):
    """The gateway cannot make this refund: make it in the provider's dashboard and
    record it here."""

    code = "provider_cannot_refund"


class GatewayNotInstalled(ProviderCannotRefund):
    """The payment's gateway is no longer installed here (or its plugin is broken):
    the refund can still be made in the provider's dashboard and recorded here."""

    code = "gateway_not_installed"


class ProviderRefundFailed(RefundRefused):
    code = "provider_refund_failed"


def gateway_refunds(settings: GatewaySettings, gateway_name: str) -> bool:
    """Whether refunds of this gateway's payments can be made through the provider."""
    try:
        capabilities = settings.gateways.get(gateway_name).capabilities
    except PaymentError:
        return False
    return capabilities.refund_full or capabilities.refund_partial


def refund_order(
    db: Session,
    settings: GatewaySettings,
    order_id: int,
    amount: Money | None,
    *,
    actor: str,
    method: RefundMethod = RefundMethod.PROVIDER,
    reason: str = "",
) -> Payment:
    """Refund part (``amount``) or all that is left (None) of the order's payments:
    through the provider, or recorded as made elsewhere. The order stays locked
    for the whole call to the provider, so two refunds of one order (two tabs, a
    double click, two API calls) cannot both pass the "no more than is left" check.
    Raises ``OrderNotFound`` or a ``RefundRefused``."""
    order = lock_order(db, order_id)
    if order is None:
        raise OrderNotFound("order not found")
    payments = order_payments(db, order.id)
    amount = amount or Money(refundable_minor(payments), order.currency)
    if method == RefundMethod.RECORDED:
        return book_refund(db, order, amount, actor=actor, method=method, reason=reason)
    check_refund(order, payments, amount)
    payment = refund_source(payments)
    left = payment.amount_minor - refunded_for(payments, payment, pending=True)
    if amount.amount > left:
        raise RefundTooLarge("more than is left of the payment", refundable_minor=left)
    try:
        gateway = settings.gateways.get(payment.gateway)
    except (UnknownGateway, GatewayLoadError):
        # Uninstalled (or a broken plugin): the refund can still be recorded by hand.
        raise GatewayNotInstalled(
            f"{payment.gateway} is no longer installed on this server", gateway=payment.gateway
        ) from None
    partial = amount.amount < payment.amount_minor
    capable = gateway.capabilities.refund_partial if partial else gateway.capabilities.refund_full
    if not capable:
        raise ProviderCannotRefund(
            f"{payment.gateway} cannot make this refund", gateway=gateway.name
        )
    number = sum(1 for p in payments if p.kind in (REFUNDED, REFUND_PENDING)) + 1
    refund = RefundRequest(
        provider_reference=payment.provider_reference,
        amount=amount,
        order_reference=str(order.id),
        # Same key if this refund is retried after a failed commit.
        idempotency_key=f"refund-{order.id}-{number}",
        reason=reason,
    )
    try:
        result = gateway.refund(refund, settings.config_for(payment.gateway))
    except (ConfigurationError, NotSupported, ProviderError, PaymentError) as exc:
        add_event(db, order, OrderEventKind.REFUND_FAILED, f"{payment.gateway}: {exc}", actor=actor)
        raise ProviderRefundFailed(str(exc), gateway=gateway.name) from None
    if result.status == PaymentState.FAILED:
        add_event(
            db,
            order,
            OrderEventKind.REFUND_FAILED,
            f"{payment.gateway}: refund refused by provider",
            actor=actor,
            data={"reference": result.provider_reference},
        )
        raise ProviderRefundFailed("the provider refused the refund", gateway=gateway.name)
    return book_refund(
        db,
        order,
        result.amount,
        actor=actor,
        method=method,
        reason=reason,
        source=payment,
        reference=result.provider_reference,
        pending=result.status == PaymentState.PENDING,
    )


def order_paid_minor(db: Session, order: Order) -> int:
    """Paid so far, net of refunds."""
    payments = order_payments(db, order.id)
    return paid_total(payments) - refunded_total(payments)


def order_method(db: Session, order: Order) -> str:
    """The payment method the shopper chose at the checkout; ``manual`` otherwise."""
    method = db.scalar(select(Checkout.payment_method).where(Checkout.order_id == order.id))
    return method or MANUAL_GATEWAY
