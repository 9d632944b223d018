"""The outermost tween: request id, one access log line, latency metrics.

It sits above pyramid_tm, so the id is current while the transaction commits
(tasks are queued then) and the duration includes the commit. The path is
logged without its query string, and route parameters that look like secrets
(an order's or cart's ``{token}``) are masked. The client address is
``REMOTE_ADDR``, which the proxy handling corrects behind a trusted proxy
(WebOb's ``client_addr`` would believe any ``X-Forwarded-For``).
"""

from __future__ import annotations

import logging
import re
import time

from backoffice.observability.context import HEADER, bind_request_id, unbind_request_id
from backoffice.observability.metrics import metrics_for

access_log = logging.getLogger("backoffice.access")
SECRET_PARAM = re.compile(r"token|secret|key|password|signature", re.IGNORECASE)
MASK = "***"


def safe_path(request) -> str:
    """The request's path, query string left out, secret route parameters masked."""
    path = request.path
    for name, value in (request.matchdict or {}).items():
        if isinstance(value, str) and value and SECRET_PARAM.search(name):
            path = path.replace(value, MASK)
    return path


def route_name(request) -> str:
    route = getattr(request, "matched_route", None)
    return route.name if route is not None else "none"


def observe_tween_factory(handler, registry):
    metrics = metrics_for(registry)

    def tween(request):
        started = time.perf_counter()
        token = bind_request_id(request.request_id)
        response = None
        try:
            response = handler(request)
            response.headers[HEADER] = request.request_id
            return response
        finally:
            seconds = time.perf_counter() - started
            status = response.status_int if response is not None else 500
            tenant = request.environ.get("backoffice.tenant")
            store = tenant.slug if tenant is not None else None
            if metrics is not None:
                metrics.observe_request(route_name(request), request.method, status, seconds, store)
            log_access(request, response, status, seconds, store)
            unbind_request_id(token)

    return tween


def log_access(request, response, status: int, seconds: float, store: str | None) -> None:
    path = safe_path(request)
    size = response.content_length if response is not None else None
    ms = round(seconds * 1000, 2)
    access_log.info(
        "%s %s %s %.2fms %sB ip=%s store=%s",
        request.method,
        path,
        status,
        ms,
        size if size is not None else "-",
        request.remote_addr,
        store or "-",
        extra={
            "method": request.method,
            "path": path,
            "status": status,
            "duration_ms": ms,
            "bytes": size,
            "client_ip": request.remote_addr,
            "store": store,
        },
    )
