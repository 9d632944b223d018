"""``/metrics`` as Prometheus parses it: request latency, tasks, the store collector."""

import os
import subprocess
import sys
import uuid
from types import SimpleNamespace

from prometheus_client.parser import text_string_to_metric_families

from backoffice.observability.metrics import MULTIPROC_ENV, child_exit
from tests.tasks.conftest import add_order

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(app) -> dict:
    res = app.get("/metrics", extra_environ=LOOPBACK)
    assert res.content_type == "text/plain"
    return {family.name: family for family in text_string_to_metric_families(res.text)}


def samples(family, name: str, **labels) -> list:
    return [
        s
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def value(family, name: str, **labels) -> float:
    return sum(s.value for s in samples(family, name, **labels))


def test_request_latency_histogram_by_route_and_status(make_app, store):
    app = make_app()
    for _ in range(3):
        app.get(f"/s/{store.slug}/probe/hello")
    app.get(f"/s/{store.slug}/probe/cart/one-token")
    app.get(f"/s/{store.slug}/probe/cart/another-token")
    app.get("/s/no-such-shop/probe/hello", status=404)
    app.get(f"/s/{store.slug}/probe/boom", status=500)
    families = scrape(app)
    latency = families["backoffice_http_request_duration_seconds"]
    assert latency.type == "histogram"
    hello = {"route": "obs.hello", "method": "GET", "status": "200"}
    assert value(latency, "backoffice_http_request_duration_seconds_count", **hello) == 3
    assert value(latency, "backoffice_http_request_duration_seconds_sum", **hello) > 0
    buckets = samples(latency, "backoffice_http_request_duration_seconds_bucket", **hello)
    assert [b.value for b in buckets if b.labels["le"] == "+Inf"] == [3]
    assert [b.value for b in buckets] == sorted(b.value for b in buckets)
    # Route names, not paths: two carts are one series, and no token is a label.
    cart = {"route": "obs.cart", "status": "200"}
    assert value(latency, "backoffice_http_request_duration_seconds_count", **cart) == 2
    assert value(latency, "backoffice_http_request_duration_seconds_count", route="none") == 1
    assert value(latency, "backoffice_http_request_duration_seconds_count", status="500") == 1
    requests = families["backoffice_http_requests"]
    assert value(requests, "backoffice_http_requests_total", **hello) == 3
    labels = {k for s in latency.samples for k in s.labels}
    assert labels == {"route", "method", "status", "le"}  # no store label by default
    # The router's numbers are still there, under their old names.
    by_status = families["backoffice_requests"]
    assert value(by_status, "backoffice_requests_total", status="active") == 6
    assert value(by_status, "backoffice_requests_total", status="refused") == 1
    assert value(families["backoffice_engines_open"], "backoffice_engines_open") == 1
    assert "one-token" not in app.get("/metrics", extra_environ=LOOPBACK).text


def test_store_labels_only_when_asked_for(make_app, store):
    app = make_app(**{"backoffice.metrics_store_labels": "true"})
    app.get(f"/s/{store.slug}/probe/hello")
    app.get("/healthz")
    latency = scrape(app)["backoffice_http_request_duration_seconds"]
    count = "backoffice_http_request_duration_seconds_count"
    assert value(latency, count, route="obs.hello", store=store.slug) == 1
    assert value(latency, count, route="healthz", store="") == 1


def test_tasks_are_counted_by_name_and_outcome(make_app, store, sqlite_control):
    app = make_app()
    order_id = add_order(sqlite_control, store)
    for _ in range(2):
        app.post(
            f"/s/{store.slug}/probe/order-event",
            {"order_id": order_id, "message": uuid.uuid4().hex},
        )
    families = scrape(app)
    task = {"task": "orders.record_event", "outcome": "success"}
    assert value(families["backoffice_tasks"], "backoffice_tasks_total", **task) == 2
    durations = families["backoffice_task_duration_seconds"]
    assert value(durations, "backoffice_task_duration_seconds_count", **task) == 2


WRITER = """
import sys
from backoffice.observability.metrics import Metrics, StoreCollector

metrics = Metrics(StoreCollector({}))
for _ in range(int(sys.argv[1])):
    metrics.observe_request("probe.whoami", "GET", 200, 0.02)
metrics.observe_task("orders.record_event", "success", 0.5)
print(__import__("os").getpid())
"""


def test_processes_writing_to_one_multiproc_dir_are_added_up(
    make_app, store, tmp_path, monkeypatch
):
    """What gunicorn's workers do: each process writes its own files, any one
    of them answers /metrics with the sum."""
    env = {**os.environ, MULTIPROC_ENV: str(tmp_path)}
    pids = [
        int(
            subprocess.run(
                [sys.executable, "-c", WRITER, str(n)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for n in (3, 4)
    ]
    assert len(list(tmp_path.glob("*.db"))) >= 2
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    for pid in pids:  # gunicorn's hook for a worker that ended: the counts stay
        child_exit(None, SimpleNamespace(pid=pid))
    app = make_app()
    families = scrape(app)
    latency = families["backoffice_http_request_duration_seconds"]
    whoami = {"route": "probe.whoami", "method": "GET", "status": "200"}
    assert value(latency, "backoffice_http_request_duration_seconds_count", **whoami) == 7
    assert value(latency, "backoffice_http_request_duration_seconds_sum", **whoami) > 0.13
    requests = families["backoffice_http_requests"]
    assert value(requests, "backoffice_http_requests_total", **whoami) == 7
    tasks = families["backoffice_tasks"]
    assert value(tasks, "backoffice_tasks_total", task="orders.record_event") == 2
    # The answering process' own store numbers come along.
    assert "backoffice_engines_open" in families
