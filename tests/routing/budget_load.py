"""One process of the fleet under load: ``python -m tests.routing.budget_load``.

Reads its settings and store slugs as JSON from ``BUDGET_LOAD`` and for
``seconds`` runs ``threads`` threads that lease a store's engine (round
robin), hold a connection for a short query, and give it back. Prints one
JSON line: queries run, 503s (CapacityError), this process' peak.
"""

import itertools
import json
import os
import threading
import time

from sqlalchemy import text

from tenancy.control import ControlPlane
from tenancy.directory import TenantDirectory
from tenancy.registry import CapacityError, EngineRegistry


def main() -> None:
    job = json.loads(os.environ["BUDGET_LOAD"])
    control = ControlPlane(job["settings"])
    directory = TenantDirectory(control, ttl=60)
    engines = EngineRegistry(control.keyring, job["settings"])
    refs = [directory.by_slug(slug) for slug in job["slugs"]]
    turns = itertools.cycle(refs)
    counts = {"ok": 0, "capacity": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + job["seconds"]

    def work():
        while time.monotonic() < deadline:
            with lock:
                ref = next(turns)
            try:
                with engines.lease(ref) as engine, engine.connect() as conn:
                    conn.execute(text("SELECT SLEEP(0.02)"))
                outcome = "ok"
            except CapacityError:
                outcome = "capacity"
            with lock:
                counts[outcome] += 1

    threads = [threading.Thread(target=work) for _ in range(job["threads"])]
    print("started", flush=True)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = max(engines.stats()["connections_peak"].values())
    engines.dispose()
    control.dispose()
    print(json.dumps({**counts, "peak": peak}), flush=True)


if __name__ == "__main__":
    main()
