"""``/metrics``: the app's numbers in the Prometheus text format.

What is measured is in ``backoffice.observability.metrics`` (docs/observability.md).

Who may read it: with ``backoffice.metrics_token`` set, any client presenting
``Authorization: Bearer <token>``; without it, only loopback clients
(``REMOTE_ADDR`` 127.0.0.1 or ::1) — put a scraper on the same host, or set the
token. Behind a reverse proxy every client looks like loopback: set the token.
"""

from __future__ import annotations

import hmac

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from pyramid.httpexceptions import HTTPForbidden, HTTPUnauthorized
from pyramid.response import Response
from pyramid.view import view_config

from backoffice.observability.metrics import metrics_for

LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


def check_access(request) -> None:
    token = request.registry.settings.get("backoffice.metrics_token") or ""
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise HTTPUnauthorized()
    elif request.remote_addr not in LOOPBACK:
        raise HTTPForbidden()


@view_config(route_name="metrics")
def metrics(request):
    check_access(request)
    body = metrics_for(request.registry).exposition()
    response = Response(body, content_type="text/plain", charset="utf-8")
    response.headers["Content-Type"] = CONTENT_TYPE_PLAIN_0_0_4
    response.headers["Cache-Control"] = "no-store"
    return response
