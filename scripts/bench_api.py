"""Benchmark: the store API under load, next to a bare Pyramid JSON view.

N stores are provisioned on MariaDB (1,000; ``--quick``: 50), each with
products, an API key and an order. The app (``serving_app``, the whole product
as the servers run it: router, engine registry, key check, rate limiter,
pyramid_tm) is served by
waitress on 127.0.0.1 in a subprocess; a bare Pyramid app with two JSON views
(no database) is served the same way. A load generator in other processes
(bounded: a fixed number of requests, keep-alive connections) sends the same
mix to each: 80% ``GET /api/v1/order-status/{token}`` and 20%
``POST /api/v1/orders`` (one line, a new customer), each to a random store,
identified by its host name and its key.

    python scripts/bench_api.py            # 1,000 stores, 20,000 requests
    python scripts/bench_api.py --quick    # 50 stores, 3,000 requests
    python scripts/bench_api.py --quick --workers 2   # both sides under gunicorn, 2 processes
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import waitress
from benchlib import DEFAULT_MYSQL_URL, bench_control, headline, run_prefix
from gunicorn.app.base import BaseApplication
from pyramid.config import Configurator
from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backoffice.apikeys.services import ApiKeyService
from backoffice.config import serving_app
from backoffice.models import Order, OrderLine, Product
from backoffice.schema import store_schema
from backoffice.web import serving
from tenancy.db import make_engine
from tenancy.provisioning import Provisioner, StoreRequest

BASE_DOMAIN = "bench.test"
CREATE_SHARE = 0.2
# The issue sets no figure to reach: every line is reported against the bare view.


# --- servers (run as subprocesses of this script) ------------------------------------------


def bare_app():
    """The baseline: Pyramid, two JSON views, no database, no router."""

    def status(request):
        return {
            "number": "000001",
            "status": "new",
            "payment_status": "unpaid",
            "currency": "EUR",
            "total_minor": 1250,
            "lines": [],
        }

    def create(request):
        request.response.status = 201
        return {"id": 1, "lines": request.json_body["lines"]}

    config = Configurator()
    config.add_route("status", "/api/v1/order-status/{token}")
    config.add_route("create", "/api/v1/orders")
    config.add_view(status, route_name="status", renderer="json")
    config.add_view(create, route_name="create", renderer="json", request_method="POST")
    return config.make_wsgi_app()


class _Gunicorn(BaseApplication):
    """gunicorn with the product's options (backoffice.web.serving) for either side."""

    def __init__(self, load_app, options: dict):
        self.load_app, self.options = load_app, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self):
        return self.load_app()


def serve(kind: str, port: int, settings_file: str | None, workers: int) -> None:
    settings = json.loads(Path(settings_file).read_text()) if settings_file else {}
    if workers:
        # The same server for both sides: gunicorn, gthread, 8 threads, N processes,
        # each building its app after the fork.
        options = serving.gunicorn_options(
            {
                "backoffice.listen_port": str(port),
                "backoffice.workers": str(workers),
                "backoffice.threads": "8",
            }
        )
        options["loglevel"] = "warning"
        load_app = bare_app if kind == "bare" else lambda: serving_app(settings)
        _Gunicorn(load_app, options).run()
        return
    app = bare_app() if kind == "bare" else serving_app(settings)
    waitress.serve(
        app,
        host="127.0.0.1",
        port=port,
        threads=8,
        _quiet=True,
        connection_limit=200,
        channel_timeout=60,
    )


def start_server(
    kind: str, port: int, settings_file: str | None = None, workers: int = 0
) -> subprocess.Popen:
    args = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
    args += ["--workers", str(workers)]
    if settings_file:
        args += ["--settings", settings_file]
    proc = subprocess.Popen(args, env={**os.environ, "PYTHONPATH": os.getcwd()})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


# --- stores ----------------------------------------------------------------------------------


def provision(control, n: int) -> list[dict]:
    stores = []
    for i in range(n):
        tenant = Provisioner(control, store_schema).create(
            StoreRequest(slug=f"bench-{i}", name=f"Bench {i}")
        )
        engine = make_engine(control.runtime_url(tenant), poolclass=NullPool)
        with control.session() as control_session, Session(engine) as db:
            db.execute(
                insert(Product),
                [
                    {
                        "sku": f"SKU-{k}",
                        "name": f"Product {k}",
                        "description": "",
                        "price_minor": 100 * (k + 1),
                        "stock": 10**9,
                        "is_active": True,
                    }
                    for k in range(5)
                ],
            )
            order = Order(
                number=f"B-{i}",
                currency="EUR",
                status_token=f"tok-{i}-bench",
                total_minor=100,
                subtotal_minor=100,
                source="api",
            )
            order.lines.append(
                OrderLine(
                    sku="SKU-0", name="Product 0", quantity=1, unit_price_minor=100, total_minor=100
                )
            )
            db.add(order)
            key = (
                ApiKeyService(control_session, db, tenant.id)
                .create("bench", ["read", "write"])
                .secret
            )
            db.commit()
            control_session.commit()
        engine.dispose()
        stores.append({"host": f"bench-{i}.{BASE_DOMAIN}", "key": key, "token": f"tok-{i}-bench"})
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} stores ready", flush=True)
    return stores


# --- load ------------------------------------------------------------------------------------


def worker(port: int, stores: list[dict], count: int, seed: int, out) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = []
    for i in range(count):
        store = rng.choice(stores)
        headers = {"Host": store["host"], "Authorization": f"Bearer {store['key']}"}
        if rng.random() < CREATE_SHARE:
            kind, method, path = "create", "POST", "/api/v1/orders"
            body = json.dumps(
                {
                    "lines": [{"sku": f"SKU-{rng.randrange(5)}", "quantity": 1}],
                    "customer": {"email": f"c{seed}-{i}@bench.test"},
                }
            )
            headers["Content-Type"] = "application/json"
        else:
            kind, method, body = "status", "GET", None
            path = f"/api/v1/order-status/{store['token']}"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        samples.append((kind, time.perf_counter() - started, response.status))
    conn.close()
    out.put(samples)


def load(port: int, stores: list[dict], total: int, clients: int) -> dict:
    queue = multiprocessing.Queue()
    per = total // clients
    procs = [
        multiprocessing.Process(target=worker, args=(port, stores, per, seed, queue))
        for seed in range(clients)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    samples = [s for _ in procs for s in queue.get()]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return {"throughput": len(samples) / elapsed, "samples": samples}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(result: dict, kind: str) -> tuple[float, float, dict]:
    times = [t for k, t, _s in result["samples"] if k == kind]
    statuses: dict[int, int] = {}
    for k, _t, status in result["samples"]:
        if k == kind:
            statuses[status] = statuses.get(status, 0) + 1
    return percentile(times, 0.5) * 1000, percentile(times, 0.99) * 1000, statuses


def report(api: dict, bare: dict) -> list[str]:
    lines = [
        headline(
            "api_throughput",
            f"{api['throughput']:.0f} req/s",
            f"{bare['throughput']:.0f} req/s",
            api["throughput"] / bare["throughput"],
            "report",
        )
    ]
    for kind in ("status", "create"):
        p50, p99, statuses = summary(api, kind)
        b50, b99, _ = summary(bare, kind)
        print(
            f"order-{kind}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, statuses {statuses}; "
            f"bare p50 {b50:.2f} ms, p99 {b99:.2f} ms"
        )
        lines.append(
            headline(f"order_{kind}_p50", f"{p50:.2f} ms", f"{b50:.2f} ms", p50 / b50, "-")
        )
        lines.append(
            headline(f"order_{kind}_p99", f"{p99:.2f} ms", f"{b99:.2f} ms", p99 / b99, "report")
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL_URL)
    parser.add_argument("--quick", action="store_true", help="50 stores, 3,000 requests")
    parser.add_argument("--stores", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--clients", type=int, default=8, help="load processes (connections)")
    parser.add_argument(
        "--engine-cap",
        type=int,
        help="backoffice.engine_cap of the app (default: the product's, 200)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="serve both sides with gunicorn, this many processes each (default: one "
        "waitress process each)",
    )
    parser.add_argument("--serve", choices=["api", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.settings, args.workers)
        return 0
    n = args.stores or (50 if args.quick else 1000)
    total = args.requests or (3000 if args.quick else 20000)
    prefix = run_prefix()
    print(f"provisioning {n} stores, prefix {prefix}_", flush=True)
    with bench_control(args.mysql_url, prefix) as control, tempfile.TemporaryDirectory() as tmp:
        stores = provision(control, n)
        settings = {
            **control.settings,
            "backoffice.base_domain": BASE_DOMAIN,
            "backoffice.api_rate_limit": "1000000",
            "backoffice.api_rate_burst": "100000",
        }
        if args.engine_cap:
            settings["backoffice.engine_cap"] = str(args.engine_cap)
        settings_file = Path(tmp, "settings.json")
        settings_file.write_text(json.dumps(settings))
        servers = [
            start_server("api", 18765, str(settings_file), args.workers),
            start_server("bare", 18766, workers=args.workers),
        ]
        try:
            load(18765, stores, min(400, total // 10), args.clients)  # warm up engines
            load(18766, stores, min(400, total // 10), args.clients)
            server = f"gunicorn x{args.workers}" if args.workers else "waitress x1"
            print(f"{total} requests, {args.clients} clients, {n} stores, {server}", flush=True)
            api = load(18765, stores, total, args.clients)
            bare = load(18766, stores, total, args.clients)
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(10)
    print()
    for line in report(api, bare):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
