"""Views of the store API; helpers shared by them."""

from __future__ import annotations

from pyramid.response import Response

from storefront.api.errors import bad_request, invalid
from storefront.api.jsonbody import dumps
from storefront.api.schemas import validator

# Every API view: a bearer key instead of cookies, so no CSRF token.
API_VIEW = {"renderer": None, "require_csrf": False}


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
        payload = request.json_body
    except ValueError:
        raise bad_request("the body must be a JSON object") from None
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
    if not raw.isdigit() or len(raw) > 18:
        raise bad_request(f"{name} must be a positive integer", {"parameter": name})
    return int(raw)
