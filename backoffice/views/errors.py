"""Error pages: a proper page for people, the JSON error envelope for the API."""

from __future__ import annotations

import logging
import re

from pyramid.httpexceptions import HTTPException
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, notfound_view_config
from pyramid_retry import is_last_attempt, mark_error_retryable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backoffice.binding import StoreUnavailable
from backoffice.i18n import _
from backoffice.observability.access import safe_path
from tenancy.registry import CapacityError

log = logging.getLogger(__name__)

TITLES = {
    400: _("Bad request"),
    401: _("Authentication required"),
    403: _("Access denied"),
    404: _("Page not found"),
    405: _("Method not allowed"),
    409: _("Conflict"),
    422: _("Cannot process"),
    429: _("Too many requests"),
    500: _("Something went wrong"),
    503: _("Temporarily unavailable"),
}
MESSAGES = {
    "store suspended": _("This store is suspended. Please contact the store owner."),
    "unknown store": _("There is no store at this address."),
}
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

# MySQL errors after which the store's cached engine must not be trusted:
# access denied (password rotated), unknown database (moved or dropped by
# another process), server gone / connection killed, account locked (a move's
# write freeze).
STALE_ENGINE_ERRORS = {1044, 1045, 1049, 1927, 2002, 2003, 2006, 2013, 4031, 4151}
# The server is full (1226: the store user's MAX_USER_CONNECTIONS): try again,
# but the engine itself is fine.
BUSY_SERVER_ERRORS = {1040, 1203, 1226}
# Deadlock found, lock wait timeout exceeded: InnoDB rolled the statement or the
# whole transaction back; the request runs again (pyramid_retry, retry.attempts).
RETRYABLE_ERRORS = {1213, 1205}
API_PATH_RE = re.compile(r"^(/s/[^/]+)?/(api/|metrics)")


def wants_json(request) -> bool:
    # The full path: a refused /s/<slug>/api/... still has its prefix in path_info.
    path = (request.script_name or "") + (request.path_info or "")
    if API_PATH_RE.match(path) or request.headers.get("Authorization", "").startswith(
        ("Bearer", "bearer")
    ):
        return True
    accept = request.accept
    if not accept or "text/html" in str(accept):
        return False
    offers = accept.acceptable_offers(["text/html", "application/json"])
    return bool(offers) and offers[0][0] == "application/json"


def error_response(
    request,
    status: int,
    message: str | None = None,
    *,
    retry_after: int | None = None,
    details: dict | None = None,
):
    localizer = request.localizer
    title = localizer.translate(TITLES.get(status, TITLES[500]))
    text = message or title
    if wants_json(request):
        response = render_to_response(
            "json",
            {
                "error": {
                    "code": CODES.get(status, "error"),
                    "message": text,
                    "details": details or {},
                }
            },
            request=request,
        )
    else:
        response = render_to_response(
            "backoffice:templates/error.jinja2",
            {
                "status": status,
                "title": title,
                "message": text,
                # What a person quotes to support; the same id is in the logs.
                "reference": request.request_id if status >= 500 else None,
            },
            request=request,
        )
    response.status = status
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@exception_view_config(StoreUnavailable)
def store_unavailable(exc, request):
    message = MESSAGES.get(exc.reason)
    text = request.localizer.translate(message) if message else None
    if exc.status == 503:
        text = request.localizer.translate(
            _("This store is being maintained. Please try again in a minute.")
        )
    return error_response(request, exc.status, text or exc.reason, retry_after=exc.retry_after)


@notfound_view_config()
def not_found(exc, request):
    return error_response(request, 404)


@exception_view_config(HTTPException)
def http_exception(exc, request):
    if exc.code < 400:
        return exc
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else None
    return error_response(request, exc.code, message)


@exception_view_config(CapacityError)
def capacity(exc, request):
    log.warning("connection budget exhausted: %s", exc)
    return error_response(request, 503, retry_after=2)


@exception_view_config(PoolTimeout)
def pool_timeout(exc, request):
    log.warning("store connection pool exhausted: %s", exc)
    return error_response(request, 503, retry_after=2)


@exception_view_config(DBAPIError)
def database_error(exc, request):
    code = getattr(exc.orig, "args", [None])[0]
    if code in RETRYABLE_ERRORS:
        mark_error_retryable(exc)
        last = is_last_attempt(request)
        log.warning("database lock conflict (%s)%s", code, "" if last else ", retrying")
        return error_response(request, 503, retry_after=1)
    if code in BUSY_SERVER_ERRORS:
        log.warning("database server busy (%s)", code)
        return error_response(request, 503, retry_after=2)
    if exc.connection_invalidated or code in STALE_ENGINE_ERRORS:
        tenant = request.tenant
        if tenant is not None:
            # Re-read the store from the control DB and rebuild its engine next time.
            request.registry.directory.invalidate(tenant)
            request.registry.engines.invalidate(tenant.id)
        log.warning("store database unreachable (%s): %s", code, type(exc.orig).__name__)
        return error_response(request, 503, retry_after=1)
    log.error("database error", exc_info=exc)
    return error_response(request, 500)


@exception_view_config(UnicodeDecodeError)
def undecodable(exc, request):
    # A form body or cookie that is not UTF-8: the client's error, not ours.
    return error_response(request, 400)


@exception_view_config(Exception)
def unexpected(exc, request):
    log.error("unhandled error on %s", safe_path(request), exc_info=exc)
    return error_response(request, 500)
