"""Benchmark: a request routed to its store's engine vs the same view on one fixed engine.

N stores are provisioned on MariaDB (the real Provisioner and store schema),
each with one customer. The routed app is the product's ``configure()`` (tenant
tween, directory, engine registry, ``request.db`` joined to pyramid_tm); the
baseline is a plain Pyramid app with the same view, pyramid_tm, zope.sqlalchemy
and one pooled engine to one store, so the comparison isolates routing. Both are
called in process (WSGI, no sockets), interleaved block by block so machine
noise hits both.

Figures: the warm median/p99 round-robin over a working set of stores (this
includes MariaDB's own cost of touching many databases' tables, which the
one-store baseline does not pay), the same with every routed request to the
baseline's store (the routing code alone), the cold cost (a store's first
request: lookup, engine, connect), the median/p99 when round-robin covers all N
stores (with N above the cap, connections churn), and
the peak connection count (server PROCESSLIST sampled in a side thread) vs cap.

    python scripts/bench_router.py            # N=1000
    python scripts/bench_router.py --quick    # N=50, under a minute
    python scripts/bench_router.py --quick --speedups both   # cold requests, speedups on vs off

``--speedups both`` measures only what the speedups change here: each
store's first (cold) request, its engine new (the shared dialect and its
statement cache, ``tenancy.speedups.shared_dialect``), on an app with the
speedups on and one with them off (``--without NAME,...``: only those),
store by store in turns.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time

import zope.sqlalchemy
from benchlib import DEFAULT_MYSQL_URL, admin_connection, bench_control, headline, run_prefix
from pyramid.config import Configurator
from pyramid.interfaces import IRoutesMapper
from pyramid.view import view_config
from sqlalchemy import event
from sqlalchemy.orm import Session
from webob import Request

from backoffice.config import configure
from backoffice.models import Customer
from backoffice.schema import store_schema
from tenancy.db import make_engine
from tenancy.provisioning import Provisioner, StoreRequest

TARGET_RATIO = 1.10
BLOCK = 100


@view_config(route_name="bench.customer", renderer="json")
def customer(request):
    row = request.db.get(Customer, 1)
    return {"email": row.email}


def routed_app(settings, control, caps: dict, *, route_first: bool = True):
    config = configure({**settings, **caps}, control=control)
    config.add_route("bench.customer", "/bench/customer")
    config.scan(__name__)
    app = config.make_wsgi_app()
    if route_first:
        # Pyramid tries routes in order, one regex each: appended last, the bench
        # route would also pay URL dispatch over the product's other routes,
        # which the one-route baseline does not have. First, the two differ by
        # the tenancy binding alone; main() measures both placements.
        mapper = app.registry.getUtility(IRoutesMapper)
        route = mapper.get_route("bench.customer")
        mapper.routelist.remove(route)
        mapper.routelist.insert(0, route)
    return app


def fixed_app(engine):
    """The floor: same view, pyramid_tm + zope.sqlalchemy, one engine, no routing."""

    def db(request):
        session = Session(bind=engine, expire_on_commit=False)
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        request.add_finished_callback(lambda _r: session.close())
        return session

    config = Configurator(settings={})
    config.include("pyramid_tm")
    config.add_request_method(db, "db", reify=True)
    config.add_route("bench.customer", "/bench/customer")
    config.scan(__name__)
    return config.make_wsgi_app()


def provision(control, url: str, n: int) -> list:
    provisioner = Provisioner(control, store_schema)
    stores = []
    with contextlib.closing(admin_connection(url)) as conn:
        cur = conn.cursor()
        for i in range(n):
            tenant = provisioner.create(StoreRequest(slug=f"bench-{i}", name=f"Bench {i}"))
            cur.execute(
                f"INSERT INTO `{tenant.database_name}`.customers "
                "(email, name, phone, created_at) VALUES (%s, '', '', NOW())",
                (f"c{i}@bench.example",),
            )
            stores.append(tenant)
            if (i + 1) % 100 == 0:
                print(f"  provisioned {i + 1}/{n}", file=sys.stderr)
    return stores


def call(app, host: str) -> float:
    request = Request.blank("/bench/customer", headers={"Host": host})
    started = time.perf_counter()
    response = request.get_response(app)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{host}: {response.status}\n{response.text[:500]}")
    return elapsed


class Sampler(threading.Thread):
    """Peak of the routed app's connections as the server lists them.

    The baseline engine logs in as the first store's user too; its connections
    (ids recorded on connect) are not the router's and are left out.
    """

    def __init__(self, url: str, prefix: str, excluded: set[int]):
        super().__init__(daemon=True)
        self.url, self.prefix, self.peak = url, prefix, 0
        self.over: list = []  # the rows of the samples that counted more than the peak so far
        self.excluded = excluded
        self.stop = threading.Event()

    def run(self):
        with contextlib.closing(admin_connection(self.url)) as conn:
            cur = conn.cursor()
            while not self.stop.is_set():
                cur.execute(
                    "SELECT ID, COMMAND, STATE, TIME_MS "
                    "FROM information_schema.PROCESSLIST WHERE USER LIKE %s "
                    "AND COMMAND NOT IN ('Killed','Busy','Quit')",
                    (self.prefix + r"\_%",),
                )
                rows = [row for row in cur.fetchall() if row[0] not in self.excluded]
                if len(rows) > self.peak:
                    self.peak = len(rows)
                    self.over = [row for row in rows if row[1] != "Sleep" or row[2]]
                time.sleep(0.005)


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us"


def interleaved(routed, baseline, hosts, fixed_host, rounds):
    routed_times, base_times = [], []
    position = 0
    for _ in range(rounds):
        for _ in range(BLOCK):
            routed_times.append(call(routed, hosts[position % len(hosts)]))
            position += 1
        for _ in range(BLOCK):
            base_times.append(call(baseline, fixed_host))
    return routed_times, base_times


def compare_cold(args, control, caps: dict, hosts: list[str]) -> None:
    """Every store's first request on an app with the speedups on and one with
    them (or ``--without``'s) off, in turns, the order swapped every store."""
    off = (
        {f"backoffice.speedups.{name}": "false" for name in args.without}
        if args.without
        else {"backoffice.speedups": "off"}
    )
    apps = {
        "on": routed_app(control.settings, control, caps),
        "off": routed_app({**control.settings, **off}, control, caps),
    }
    cold: dict[str, list[float]] = {"on": [], "off": []}
    for i, host in enumerate(hosts):
        for side in ("on", "off") if i % 2 == 0 else ("off", "on"):
            cold[side].append(call(apps[side], host))
    for app in apps.values():
        app.registry.engines.dispose()
    on, plain = statistics.median(cold["on"]), statistics.median(cold["off"])
    print(f"stores: {len(hosts)}; off: {', '.join(f'{k} = {v}' for k, v in off.items())}")
    print(f"cold first request, speedups on  median {us(on)}  p99 {us(p99(cold['on']))}")
    print(f"cold first request, speedups off median {us(plain)}  p99 {us(p99(cold['off']))}")
    print(headline("router_cold_speedups", us(on), us(plain), on / plain, "< 0.97"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 stores")
    parser.add_argument("--stores", type=int)
    parser.add_argument("--url", default=DEFAULT_MYSQL_URL)
    parser.add_argument("--cap", type=int, default=100, help="server_connection_cap")
    parser.add_argument(
        "--speedups",
        choices=("on", "off", "both"),
        default="on",
        help="the speedups on, all off, or both: cold requests only, on against off",
    )
    parser.add_argument(
        "--without",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=[],
        metavar="NAME,...",
        help="with --speedups both: only these speedups off, e.g. shared_dialect",
    )
    args = parser.parse_args()
    n = args.stores or (50 if args.quick else 1000)
    rounds = 20 if args.quick else 40
    prefix = run_prefix()
    with bench_control(args.url, prefix) as control:
        print(f"provisioning {n} stores (prefix {prefix}) ...", file=sys.stderr)
        stores = provision(control, args.url, n)
        caps = {
            "backoffice.engine_cap": str(max(n, 1)),
            "backoffice.server_connection_cap": str(args.cap),
            "backoffice.engine_pool_size": "1",
            "backoffice.base_domain": "shops.test",
        }
        if args.speedups == "both":
            compare_cold(args, control, caps, [f"{s.slug}.shops.test" for s in stores])
            return
        off = {"backoffice.speedups": "off"} if args.speedups == "off" else {}
        routed = routed_app({**control.settings, **off}, control, caps)
        # No pre-ping: the registry's engines do not ping either (a dead connection
        # is a 503 and a rebuilt engine), so both sides send the same statements.
        engine = make_engine(runtime_url(control, stores[0]), pool_size=1, pool_pre_ping=False)
        baseline_ids: set[int] = set()
        event.listen(engine, "connect", lambda dbapi, _record: baseline_ids.add(dbapi.thread_id()))
        baseline = fixed_app(engine)
        hosts = [f"{s.slug}.shops.test" for s in stores]
        sampler = Sampler(args.url, prefix, baseline_ids)
        sampler.start()

        cold = [call(routed, host) for host in hosts]  # every store's first request
        call(baseline, hosts[0])
        working_set = hosts[: min(n, args.cap // 2)]
        for host in working_set:  # warm the working set's engines and connections
            call(routed, host)
        warm, base = interleaved(routed, baseline, working_set, hosts[0], rounds)
        # The routing code alone: the same store (same connection, same tables) both sides.
        same, base_same = interleaved(routed, baseline, hosts[:1], hosts[0], rounds)
        churn, base_churn = interleaved(routed, baseline, hosts, hosts[0], max(4, rounds // 4))
        sampler.stop.set()
        sampler.join()
        stats = routed.registry.engines.stats()
        routed.registry.engines.dispose()
        # The bench route behind the product's routes, as a product page would be.
        routed_last = routed_app(control.settings, control, caps, route_first=False)
        call(routed_last, hosts[0])
        last, base_last = interleaved(routed_last, baseline, hosts[:1], hosts[0], rounds)
        routed_last.registry.engines.dispose()
        engine.dispose()

    ratio = statistics.median(warm) / statistics.median(base)
    print(
        f"stores: {n}, working set: {len(working_set)}, connection cap: {args.cap}, "
        f"requests per side: {len(warm)} warm, {len(churn)} over all stores"
    )
    print(f"warm routed   median {us(statistics.median(warm))}  p99 {us(p99(warm))}")
    print(f"fixed engine  median {us(statistics.median(base))}  p99 {us(p99(base))}")
    print(
        f"all-stores    median {us(statistics.median(churn))}  p99 {us(p99(churn))}  "
        f"(fixed {us(statistics.median(base_churn))})"
    )
    print(f"cold first request median {us(statistics.median(cold))}  p99 {us(p99(cold))}")
    print(f"engines created {stats['engines_created']}, evicted {stats['engines_evicted']}")
    print(
        headline(
            "router_warm_median",
            us(statistics.median(warm)),
            us(statistics.median(base)),
            ratio,
            f"<= {TARGET_RATIO}",
        )
    )
    print(
        headline(
            "router_same_store_median",
            us(statistics.median(same)),
            us(statistics.median(base_same)),
            statistics.median(same) / statistics.median(base_same),
            f"<= {TARGET_RATIO}",
        )
    )
    print(
        headline(
            "router_same_store_route_last_median",
            us(statistics.median(last)),
            us(statistics.median(base_last)),
            statistics.median(last) / statistics.median(base_last),
            "report",
        )
    )
    print(
        headline("router_warm_p99", us(p99(warm)), us(p99(base)), p99(warm) / p99(base), "report")
    )
    print(
        headline(
            "router_all_stores_median",
            us(statistics.median(churn)),
            us(statistics.median(base_churn)),
            statistics.median(churn) / statistics.median(base_churn),
            "report",
        )
    )
    print(
        headline(
            "router_cold_first_request",
            us(statistics.median(cold)),
            us(statistics.median(base)),
            statistics.median(cold) / statistics.median(base),
            "report",
        )
    )
    peak = max(stats["connections_peak"].values())
    print(
        f"connections: registry peak {peak}, server PROCESSLIST peak {sampler.peak}; "
        f"non-idle sessions at that sample: {sampler.over}"
    )
    print(
        headline(
            "router_peak_connections",
            str(max(peak, sampler.peak)),
            str(args.cap),
            max(peak, sampler.peak) / args.cap,
            "<= 1.00",
        )
    )


def runtime_url(control, tenant):
    with control.session() as session:
        return control.runtime_url(session.merge(tenant))


if __name__ == "__main__":
    main()
