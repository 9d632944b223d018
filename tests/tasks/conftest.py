"""A real Celery worker (``backoffice worker`` in a subprocess) on a real Redis.

The tests use Redis database 7 (``BACKOFFICE_TEST_REDIS_URL`` to change it),
flushed at the start and end of the run, so two runs must not share it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import insert, select
from sqlalchemy.pool import NullPool
from webtest import TestApp

from backoffice.config import configure
from backoffice.models import Order, OrderEvent
from tenancy.db import make_engine
from tests.conftest import REQUIRE_MYSQL, RUN_PREFIX
from tests.tasks.probes import add_probe_views

REDIS_URL = os.environ.get("BACKOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
BACKOFFICE = str(Path(sys.executable).parent / "backoffice")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _worker_redis_url(url: str) -> str:
    """Each xdist worker gets Redis databases of its own (n and n + 1 for gw0,
    n + 2 and n + 3 for gw1, ...): one worker's flush must not eat another's
    queued messages or delivery counters."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) + 2 * index}"


@pytest.fixture(scope="session")
def redis_url():
    url = _worker_redis_url(REDIS_URL)
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        if REQUIRE_MYSQL:
            pytest.fail(f"Redis is required but unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def task_settings(base, redis_url, **extra) -> dict:
    return {
        **base,
        "backoffice.broker_url": redis_url,
        "backoffice.result_url": redis_url,
        "backoffice.task_includes": "tests.tasks.probes",
        "backoffice.task_busy_retry_seconds": "1",
        "backoffice.task_max_deliveries": "3",
        **extra,
    }


class WorkerProcess:
    """``backoffice worker`` as a child process, with its log in a file."""

    def __init__(self, settings: dict, workdir: Path, name: str):
        self.name = f"{name}-{RUN_PREFIX}@localhost"
        self.log = workdir / f"{name}.log"
        ini = workdir / "worker.ini"
        ini.write_text("[app:main]\nbackoffice.environment = test\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
        env.update(
            {
                "BACKOFFICE_" + key[len("backoffice.") :].upper(): str(value)
                for key, value in settings.items()
                if key.startswith("backoffice.")
            }
        )
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
        self.command = [
            BACKOFFICE,
            "--config",
            str(ini),
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "info",
            "--hostname",
            self.name,
        ]
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> WorkerProcess:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes()[offset:]:
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited: {self.output()}")
            time.sleep(0.1)
        raise AssertionError(f"worker not ready in {timeout}s: {self.output()}")

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._kill_group()
            return
        self.proc.send_signal(signal.SIGTERM)  # warm shutdown: running tasks finish
        if self.wait_exit(30) is None:
            self._kill_group()
            self.proc.wait(10)

    def _kill_group(self) -> None:
        # Pool processes of a worker that was killed may outlive it.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="session")
def worker_settings(mysql_settings, mysql_control, redis_url):
    return task_settings(mysql_settings, redis_url)


@pytest.fixture(scope="session")
def worker(worker_settings, tmp_path_factory):
    process = WorkerProcess(worker_settings, tmp_path_factory.mktemp("worker"), "tasks")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def task_registry(worker_settings, mysql_control):
    """The registry of a web app configured like the worker (and its Celery app)."""
    config = configure(worker_settings, control=mysql_control)
    add_probe_views(config)
    app = config.make_wsgi_app()
    config.registry.test_app = TestApp(app)
    yield config.registry
    config.registry.celery.close()
    config.registry.engines.dispose()


@pytest.fixture
def web(task_registry):
    return task_registry.test_app


def store_engine(control, tenant):
    return make_engine(control.runtime_url(tenant), poolclass=NullPool)


def add_order(control, tenant, number="1001") -> int:
    engine = store_engine(control, tenant)
    with engine.begin() as conn:
        conn.execute(insert(Order).values(number=number, currency="EUR"))
        order_id = conn.scalar(select(Order.id).where(Order.number == number))
    engine.dispose()
    return order_id


def order_events(control, tenant, message: str | None = None) -> list[tuple[int, str, str]]:
    engine = store_engine(control, tenant)
    query = select(OrderEvent.order_id, OrderEvent.kind, OrderEvent.message)
    if message is not None:
        query = query.where(OrderEvent.message == message)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    engine.dispose()
    return rows


def wait_for(predicate, timeout: float = 15, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
