"""Every API request carries a key: ``Authorization: Bearer bo_live_...``.

The router has already checked the key's hash in the control DB and that it
belongs to the store the host or path names (403 otherwise). Here: a key is
required at all, the store-side row must not be revoked (a revoke is effective
at once in every process), the per-key rate limit, and the scope.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from backoffice.apikeys.services import active_key
from backoffice.models import ApiKey
from backoffice.models.base import utcnow
from storefront.api.errors import ApiError
from tenancy.directory import api_key_prefix

LAST_USED_PRECISION = timedelta(minutes=1)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="store-api"'}


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers=CHALLENGE)


def presented_prefix(request) -> str:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    prefix = api_key_prefix(value.strip()) if scheme.lower() == "bearer" else None
    if prefix is None or request.tenant is None:
        raise unauthorized("an API key is required: Authorization: Bearer <key>")
    return prefix


def require_key(request, scope: str) -> ApiKey:
    prefix = presented_prefix(request)
    decision = request.registry.api_rate_limiter.take(prefix)
    if decision is not None:
        headers = decision.headers()
        request.add_response_callback(lambda _req, response: response.headers.update(headers))
        if not decision.allowed:
            raise ApiError(
                429,
                "rate_limited",
                "too many requests for this API key",
                {"retry_after": decision.retry_after},
            )
    key = active_key(request.db, prefix)
    if key is None:
        raise unauthorized("this API key has been revoked")
    if scope not in key.scope_set:
        raise ApiError(
            403,
            "insufficient_scope",
            f"this API key lacks the {scope} scope",
            {"required_scope": scope, "key_scopes": sorted(key.scope_set)},
        )
    now = utcnow()
    # One write a minute per key at most: "last used" is for owners, not an audit trail.
    # A Core UPDATE: two requests in the same second write the same value, which the
    # ORM would take for a lost row (the engines report changed, not matched, rows).
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        request.db.execute(
            update(ApiKey)
            .where(ApiKey.id == key.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return key
