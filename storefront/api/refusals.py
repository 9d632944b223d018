"""The back office's refusals (translation strings per field) as the API's errors."""

from __future__ import annotations

from storefront.api.errors import ApiError, invalid


def fields(request, errors: dict, rename: dict | None = None) -> list[dict]:
    translate = request.localizer.translate
    return [
        {"field": (rename or {}).get(name, name), "message": translate(message)}
        for name, message in errors.items()
    ]


def invalid_fields(request, errors: dict, rename: dict | None = None) -> ApiError:
    return invalid("the request body is invalid", {"fields": fields(request, errors, rename)})


def duplicate(request, code: str, message: str, errors: dict, **details) -> ApiError:
    """409: the value is another record's (an SKU, an e-mail address)."""
    return ApiError(409, code, message, {**details, "fields": fields(request, errors)})
