"""What the order domain refuses, as exceptions with a stable ``code``.

The domain raises them; each adapter translates them: the store API into its
error envelope (``storefront.api``), the back office and the checkout into a
message in the reader's language. ``details`` are plain JSON values.
"""

from __future__ import annotations


class OrderError(Exception):
    code = "order_error"

    def __init__(self, message: str = "", **details):
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details


class OrderNotFound(OrderError):
    code = "not_found"


class TransitionRefused(OrderError):
    """The store's flow does not lead from the order's status to the one asked."""

    code = "invalid_transition"

    def __init__(self, current: str, target: str, allowed: list[str]):
        super().__init__(
            f"an order in status {current!r} cannot move to {target!r}",
            **{"from": current, "to": target, "allowed": [str(a) for a in allowed]},
        )
        self.current, self.target, self.allowed = current, target, allowed


class DuplicateLines(OrderError):
    code = "duplicate_lines"


class UnknownProducts(OrderError):
    code = "unknown_products"


class OutOfStock(OrderError):
    code = "out_of_stock"


class DuplicateReference(OrderError):
    code = "duplicate_external_reference"


class RefundRefused(OrderError):
    """A refund that cannot be made or recorded; the ledger is unchanged."""

    code = "refund_refused"


class NothingToRefund(RefundRefused):
    code = "nothing_to_refund"


class RefundTooLarge(RefundRefused):
    """More than is left to refund (paid minus refunded, pending refunds included)."""

    code = "refund_exceeds_refundable"


class ReasonRequired(RefundRefused):
    """A refund recorded by hand says why and how the money went back."""

    code = "reason_required"


class PaymentTooLarge(OrderError):
    """A payment recorded by hand larger than what is left to pay."""

    code = "payment_exceeds_due"
