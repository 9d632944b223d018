"""``/metrics``: the router's numbers in the Prometheus text format.

Who may read it: with ``backoffice.metrics_token`` set, any client presenting
``Authorization: Bearer <token>``; without it, only loopback clients
(``REMOTE_ADDR`` 127.0.0.1 or ::1) — put a scraper on the same host, or set the
token. Behind a reverse proxy every client looks like loopback: set the token.
"""

from __future__ import annotations

import hmac

from pyramid.httpexceptions import HTTPForbidden, HTTPUnauthorized
from pyramid.response import Response
from pyramid.view import view_config

LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
STATUSES = ("active", "suspended", "busy", "none", "refused")
CONTENT_TYPE = "text/plain; version=0.0.4"


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


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, kind: str, text: str, samples) -> list[str]:
    lines = [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
        lines.append(f"{name}{{{label}}} {value}" if label else f"{name} {value}")
    return lines


def render(engines: dict, directory, statuses: dict[str, int]) -> str:
    servers = sorted(engines["connections"])
    lines = [
        *_family(
            "backoffice_engines_open",
            "gauge",
            "Store engines in the registry.",
            [({}, engines["engines"])],
        ),
        *_family(
            "backoffice_engines_retired",
            "gauge",
            "Retired engines still leased by a request.",
            [({}, engines["retired_engines"])],
        ),
        *_family(
            "backoffice_engines_created_total",
            "counter",
            "Store engines created.",
            [({}, engines["engines_created"])],
        ),
        *_family(
            "backoffice_engines_evicted_total",
            "counter",
            "Store engines evicted or retired.",
            [({}, engines["engines_evicted"])],
        ),
        *_family(
            "backoffice_server_connections_open",
            "gauge",
            "Open connections to a database server.",
            [({"server": s}, engines["connections"][s]) for s in servers],
        ),
        *_family(
            "backoffice_server_connections_peak",
            "gauge",
            "Most connections ever open at once to a database server.",
            [({"server": s}, engines["connections_peak"][s]) for s in servers],
        ),
        *_family(
            "backoffice_server_connection_cap",
            "gauge",
            "Connection cap per database server.",
            [({}, engines["connection_cap"])],
        ),
        *_family(
            "backoffice_directory_cache_hits_total",
            "counter",
            "Store lookups answered from the cache.",
            [({}, directory.hits)],
        ),
        *_family(
            "backoffice_directory_cache_misses_total",
            "counter",
            "Store lookups that read the control database.",
            [({}, directory.misses)],
        ),
        *_family(
            "backoffice_requests_total",
            "counter",
            "Requests by the store's status.",
            [({"status": s}, statuses.get(s, 0)) for s in STATUSES],
        ),
    ]
    return "\n".join(lines) + "\n"


@view_config(route_name="metrics")
def metrics(request):
    check_access(request)
    registry = request.registry
    body = render(
        registry.engines.stats(), registry.directory, registry.request_statuses.snapshot()
    )
    response = Response(body, content_type="text/plain", charset="utf-8")
    response.headers["Content-Type"] = CONTENT_TYPE + "; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response
