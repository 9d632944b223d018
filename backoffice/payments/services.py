"""Starting payments and refunding them: the core's side of a gateway call.

``start_payment`` is what the hosted checkout calls; it never marks anything
paid. ``refund_order`` runs with the order row locked for the whole call to the
provider, so two refunds of one order (two tabs, a double click) cannot both
pass the "no more than what is left" check.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.i18n import _
from backoffice.models import Order, OrderEvent, Payment
from backoffice.payments.configs import GatewaySettings
from backoffice.payments.ledger import (
    COUNTED,
    PAID,
    REFUND_PENDING,
    REFUNDED,
    add_event,
    lock_order,
    order_money,
    order_payments,
    refunded_for,
    settle_payment_status,
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
        order_reference=str(order.id),
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
            kind="payment_started",
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
                OrderEvent.kind == "payment_started",
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


def refund_order(request, order_id: int, amount_text: str | None, actor: str) -> Payment:
    """Refund all that is left (empty amount) or part of the order's payment."""
    db: Session = request.db
    order = lock_order(db, order_id)
    if order is None:
        raise LookupError(order_id)
    payments = order_payments(db, order.id)
    payment = _refundable_payment(payments)
    if payment is None:
        raise PaymentRefused(_("This order has no payment left to refund."))
    left = Money(
        payment.amount_minor - refunded_for(payments, payment, pending=True), payment.currency
    )
    amount = parse_amount(amount_text, order.currency) or left
    _check_amount(amount, left)
    settings: GatewaySettings = request.payment_settings
    gateway = installed_gateway(settings, payment.gateway)
    partial = amount.amount < payment.amount_minor
    capable = gateway.capabilities.refund_partial if partial else gateway.capabilities.refund_full
    if not capable:
        title = request.localizer.translate(_(gateway.title))  # English in payments/
        raise PaymentRefused(
            _("${gateway} cannot make this refund: do it in the provider's dashboard."),
            {"gateway": title},
        )
    number = sum(1 for p in payments if p.kind in (REFUNDED, REFUND_PENDING)) + 1
    refund = RefundRequest(
        provider_reference=payment.provider_reference,
        amount=amount,
        order_reference=str(order.id),
        # Same key if this refund is retried after a failed commit.
        idempotency_key=f"refund-{order.id}-{number}",
    )
    try:
        result = gateway.refund(refund, settings.config_for(payment.gateway))
    except (ConfigurationError, NotSupported, ProviderError, PaymentError) as exc:
        add_event(db, order, "refund_failed", f"{payment.gateway}: {exc}", actor=actor)
        raise PaymentRefused(
            _("The refund did not go through: ${error}"), {"error": str(exc)}
        ) from None
    return _record_refund(db, order, payment, result, actor)


def _refundable_payment(payments: list[Payment]) -> Payment | None:
    # The latest payment with something left (several only after a double payment).
    for payment in reversed(payments):
        if (
            payment.kind == PAID
            and payment.status == COUNTED
            and (refunded_for(payments, payment, pending=True) < payment.amount_minor)
        ):
            return payment
    return None


def _check_amount(amount: Money, left: Money) -> None:
    if amount.currency != left.currency or amount.amount <= 0:
        raise PaymentRefused(_("Enter an amount greater than zero."))
    if amount > left:
        raise PaymentRefused(_("At most ${left} can be refunded."), {"left": str(left)})


def _record_refund(db: Session, order: Order, payment: Payment, result, actor: str) -> Payment:
    if result.status == "failed":
        add_event(
            db,
            order,
            "refund_failed",
            f"{payment.gateway}: refund refused by provider",
            actor=actor,
            data={"reference": result.provider_reference},
        )
        raise PaymentRefused(_("The provider refused the refund."))
    kind, status = (
        (REFUNDED, COUNTED) if result.status == "succeeded" else (REFUND_PENDING, "pending")
    )
    row = Payment(
        order_id=order.id,
        gateway=payment.gateway,
        kind=kind,
        status=status,
        provider_reference=result.provider_reference,
        amount_minor=result.amount.amount,
        currency=result.amount.currency,
        raw={"payment_reference": payment.provider_reference, "by": actor},
    )
    db.add(row)
    db.flush()
    before = order.payment_status
    settle_payment_status(order, order_payments(db, order.id))
    add_event(
        db,
        order,
        "refund",
        f"{payment.gateway}: {result.amount} refund {status} ({result.provider_reference})",
        actor=actor,
        data={"amount": str(result.amount), "status": status},
    )
    if order.payment_status != before:
        db.add(
            OrderEvent(
                order_id=order.id,
                kind="payment_status",
                actor=actor,
                from_status=before,
                to_status=order.payment_status,
                message="",
            )
        )
    return row
