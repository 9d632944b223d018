"""The store API's side of the order domain: its refusals as API errors.

Orders are placed, moved and refunded by ``backoffice.orders.service`` and
``backoffice.payments``; this module only says which status and code each
domain refusal gets in the API's error envelope (docs/api.md, "Errors").
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy.orm import Session

from backoffice.orders import errors
from backoffice.orders.service import setting as _setting
from storefront.api.errors import ApiError

# Domain code -> (HTTP status, API code). Unlisted codes keep their own code, 422.
STATUS = {
    errors.DuplicateLines.code: (422, "validation_failed"),
    errors.UnknownProducts.code: (422, "validation_failed"),
    errors.OutOfStock.code: (409, errors.OutOfStock.code),
    errors.DuplicateReference.code: (409, errors.DuplicateReference.code),
    errors.TransitionRefused.code: (422, errors.TransitionRefused.code),
    errors.OrderNotFound.code: (404, "not_found"),
    errors.NothingToRefund.code: (409, errors.NothingToRefund.code),
    errors.RefundTooLarge.code: (422, errors.RefundTooLarge.code),
    "provider_refund_failed": (502, "provider_refund_failed"),
}


def setting(db: Session, key: str, default: str) -> str:
    return _setting(db, key, default)


def api_error(exc: errors.OrderError) -> ApiError:
    status, code = STATUS.get(exc.code, (422, exc.code))
    return ApiError(status, code, exc.message, dict(exc.details))


@contextmanager
def domain_errors():
    """Inside: an ``OrderError`` leaves as the matching ``ApiError``."""
    try:
        yield
    except errors.OrderError as exc:
        raise api_error(exc) from None
