"""Observability: request ids, the access log, Prometheus metrics, Sentry.

``config.include("backoffice.observability")`` adds ``request.request_id``,
the outermost tween (``X-Request-ID``, access log, latency metrics), the
app's ``Metrics`` (``registry.metrics``, shown by ``/metrics``), the task
signals, and Sentry when a DSN is set. See docs/observability.md.
"""

from __future__ import annotations

from pyramid.tweens import INGRESS

from backoffice.observability.context import request_id
from backoffice.observability.logs import log_format
from backoffice.observability.metrics import Metrics, StoreCollector
from backoffice.observability.sentry import init_sentry
from backoffice.observability.tasks import connect_task_signals
from tenancy.settings import as_bool


def includeme(config) -> None:
    settings = config.registry.settings
    log_format(settings)  # a bad value is a start-up error, not a silent default
    config.registry.metrics = Metrics(
        StoreCollector(config.registry),
        store_labels=as_bool(settings, "backoffice.metrics_store_labels"),
    )
    config.add_request_method(request_id, "request_id", reify=True)
    # Right under the proxy tween, so the log sees the corrected client address.
    config.add_tween(
        "backoffice.observability.access.observe_tween_factory",
        under=("backoffice.web.proxy.proxy_tween_factory", INGRESS),
    )
    connect_task_signals()
    init_sentry(settings)
