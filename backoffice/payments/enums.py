"""The words of the ledger (``payments`` rows), one definition each.

``LedgerEntryKind`` values are the gateway event kinds (``payments.EventKind``)
a row was made from; refunds recorded by hand use the same kinds.
"""

from __future__ import annotations

from enum import StrEnum


class LedgerEntryKind(StrEnum):
    PAYMENT = "payment.succeeded"
    PAYMENT_PENDING = "payment.pending"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELLED = "payment.cancelled"
    REFUND = "refund.succeeded"
    REFUND_PENDING = "refund.pending"


class PaymentState(StrEnum):
    """``payments.status``: only ``succeeded`` rows move money in our books."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"
    CANCELLED = "cancelled"
    FLAGGED = "flagged"  # authentic, but something did not add up: a person looks
    SETTLED = "settled"  # a pending refund the provider has since confirmed
    SUPERSEDED = "superseded"  # a cumulative report that added nothing


class RefundMethod(StrEnum):
    """How a refund was made: by us through the provider, or elsewhere and recorded."""

    PROVIDER = "provider"
    RECORDED = "recorded"
