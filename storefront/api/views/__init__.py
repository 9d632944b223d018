"""Views of the store API; helpers shared by them."""

from __future__ import annotations

from pyramid.response import Response

from backoffice.web.input import BodyTooLarge, InputError, json_body, parse_int
from storefront.api.errors import ApiError, bad_request, invalid
from storefront.api.jsonbody import dumps
from storefront.api.schemas import validator

# Every API view: a bearer key instead of cookies, so no CSRF token.
API_VIEW = {"renderer": None, "require_csrf": False}
# The largest request body (an order of 100 lines is ~10 KiB).
MAX_BODY = 64 * 1024


def actor(key) -> str:
    """Who made a change, in the audit log: the API key, by its public prefix."""
    return f"api:{key.prefix}"


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(
        body=data if isinstance(data, bytes) else dumps(data),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def body_of(request, schema: str) -> dict:
    try:
        payload = json_body(request, MAX_BODY)
    except BodyTooLarge:
        message = f"the body is larger than {MAX_BODY} bytes"
        raise ApiError(413, "payload_too_large", message) from None
    except ValueError as exc:
        raise bad_request(f"the body must be a JSON object ({exc})") from None
    if not isinstance(payload, dict):
        raise bad_request("the body must be a JSON object")
    errors = sorted(validator(schema).iter_errors(payload), key=lambda e: list(e.path))
    if errors:
        raise invalid(
            "the request body is invalid",
            {
                "fields": [
                    {
                        "field": "/".join(str(p) for p in e.absolute_path) or "(body)",
                        "message": e.message,
                    }
                    for e in errors[:20]
                ]
            },
        )
    return payload


def int_param(params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return parse_int(raw, minimum=0)
    except InputError:
        raise bad_request(f"{name} must be a positive integer", {"parameter": name}) from None
