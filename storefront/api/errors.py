"""The API's errors: one envelope ``{"error": {"code", "message", "details"}}``.

Views raise ``ApiError``; the exception view renders it (and so pyramid_tm
aborts the transaction: a refused request leaves nothing behind).
"""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import exception_view_config

from storefront.api.jsonbody import dumps


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def bad_request(message: str, details: dict | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def invalid(message: str, details: dict | None = None) -> ApiError:
    return ApiError(422, "validation_failed", message, details)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def envelope(
    status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None
) -> Response:
    body = dumps({"error": {"code": code, "message": message, "details": details or {}}})
    response = Response(body=body, status=status, content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


@exception_view_config(ApiError)
def api_error(exc: ApiError, request):
    response = envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)
    limit_headers = request.environ.get("storefront.ratelimit_headers")
    if limit_headers:
        response.headers.update(limit_headers)
    return response
