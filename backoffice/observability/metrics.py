"""Prometheus metrics: requests, tasks, and the store engines' own numbers.

Each app has its own ``Metrics`` (``registry.metrics``): a request latency
histogram and a request counter by route name, method and status code; task
counts, durations and failures by task name; and ``StoreCollector``, which
reads the engine registry, the store directory and the per-status request
counts when ``/metrics`` is scraped. Route names, not paths, are labels, so
the number of series stays bounded; the store's slug becomes a label only with
``backoffice.metrics_store_labels = true``.

Several processes (gunicorn workers, Celery's pool): set the environment
variable ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory, emptied at every
start, before the processes start. Counters and histograms are then kept in
files there and ``/metrics`` adds up all processes' values;
``child_exit(server, worker)`` is gunicorn's hook for a worker that ended.
``StoreCollector``'s numbers are those of the process answering the scrape.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STATUSES = ("active", "suspended", "busy", "none", "refused")


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def child_exit(server, worker) -> None:
    """gunicorn's ``child_exit`` hook: forget the live values of a dead worker."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(worker.pid)


class Metrics:
    """The app's metric objects and what ``/metrics`` shows."""

    def __init__(self, stores: StoreCollector, *, store_labels: bool = False):
        self.store_labels = store_labels
        self.registry = CollectorRegistry()
        http = ("route", "method", "status", *(("store",) if store_labels else ()))
        self.request_duration = Histogram(
            "backoffice_http_request_duration_seconds",
            "Time to answer a request, by route name, method and status code.",
            http,
            registry=self.registry,
        )
        self.requests = Counter(
            "backoffice_http_requests",
            "Requests answered, by route name, method and status code.",
            http,
            registry=self.registry,
        )
        self.task_duration = Histogram(
            "backoffice_task_duration_seconds",
            "Time a task ran, by task name and outcome.",
            ("task", "outcome"),
            registry=self.registry,
        )
        self.tasks = Counter(
            "backoffice_tasks",
            "Tasks run, by task name and outcome (success, failure, retry, ...).",
            ("task", "outcome"),
            registry=self.registry,
        )
        self.task_failures = Counter(
            "backoffice_task_failures",
            "Tasks that raised, by task name and exception class.",
            ("task", "exception"),
            registry=self.registry,
        )
        self.stores = stores
        self.registry.register(stores)

    def observe_request(self, route: str, method: str, status: int, seconds: float, store=None):
        labels = [route or "none", method if method in METHODS else "other", str(status)]
        if self.store_labels:
            labels.append(store or "")
        self.request_duration.labels(*labels).observe(seconds)
        self.requests.labels(*labels).inc()

    def observe_task(self, task: str, outcome: str, seconds: float) -> None:
        self.task_duration.labels(task, outcome).observe(seconds)
        self.tasks.labels(task, outcome).inc()

    def task_failed(self, task: str, exception: BaseException) -> None:
        self.task_failures.labels(task, type(exception).__name__).inc()

    def exposition(self) -> bytes:
        """The text format: all processes' values in multi-process mode."""
        if not multiprocess_dir():
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(self.stores)
        return generate_latest(registry)


class StoreCollector:
    """The engine registry's, the directory's and the router's counters, read on scrape."""

    def __init__(self, registry):
        self.app_registry = registry

    def describe(self):
        # Nothing to check at registration; the numbers exist once the app is built.
        return []

    def collect(self):
        registry = self.app_registry
        engines = registry.engines.stats()
        directory = registry.directory
        statuses = registry.request_statuses.snapshot()
        yield _gauge(
            "backoffice_engines_open", "Store engines in the registry.", engines["engines"]
        )
        yield _gauge(
            "backoffice_engines_retired",
            "Retired engines still leased by a request.",
            engines["retired_engines"],
        )
        yield _counter(
            "backoffice_engines_created", "Store engines created.", engines["engines_created"]
        )
        yield _counter(
            "backoffice_engines_evicted",
            "Store engines evicted or retired.",
            engines["engines_evicted"],
        )
        yield _per_server(
            "backoffice_server_connections_open",
            "Open connections to a database server.",
            engines["connections"],
        )
        yield _per_server(
            "backoffice_server_connections_peak",
            "Most connections ever open at once to a database server.",
            engines["connections_peak"],
        )
        yield _gauge(
            "backoffice_server_connection_cap",
            "Connection cap per database server.",
            engines["connection_cap"],
        )
        yield _counter(
            "backoffice_directory_cache_hits",
            "Store lookups answered from the cache.",
            directory.hits,
        )
        yield _counter(
            "backoffice_directory_cache_misses",
            "Store lookups that read the control database.",
            directory.misses,
        )
        by_status = CounterMetricFamily(
            "backoffice_requests", "Requests by the store's status.", labels=["status"]
        )
        for status in STATUSES:
            by_status.add_metric([status], statuses.get(status, 0))
        yield by_status


def _gauge(name: str, text: str, value) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def _counter(name: str, text: str, value) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=value)


def _per_server(name: str, text: str, values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, text, labels=["server"])
    for server in sorted(values):
        family.add_metric([server], values[server])
    return family


def metrics_for(registry) -> Metrics | None:
    """The app's ``Metrics`` (None for an app built without observability)."""
    return getattr(registry, "metrics", None)
