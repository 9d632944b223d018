"""Shared pieces of the offline methods (bank transfer, cash on delivery)."""

from __future__ import annotations

from payments.interfaces import PaymentRequest


def fill_instructions(template: str, request: PaymentRequest) -> str:
    """Substitute the two documented placeholders.

    Plain replacement, not ``str.format``: the template is written by a store
    owner and format fields can reach object attributes.
    """
    return template.replace("{order_reference}", request.order_reference).replace(
        "{amount}", str(request.amount)
    )
