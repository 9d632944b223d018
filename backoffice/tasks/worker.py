"""Running a worker: ``backoffice worker``, or ``celery -A backoffice.tasks.worker worker``;
the periodic tasks: ``backoffice beat`` (or ``backoffice worker --beat``).

Both build the app with the same ``configure(settings)`` as the web app. For
the plain ``celery`` command the settings come from ``BACKOFFICE_CONFIG``
(default ``development.ini``) and ``BACKOFFICE_*`` variables; the app is built
when Celery first asks this module for ``app``, not at import.
"""

from __future__ import annotations

import functools
import logging
import os

from celery import signals

from backoffice.config import configure
from backoffice.observability.tasks import log_like_the_app
from backoffice.tasks.app import BackofficeCelery
from tenancy import settings as app_settings

log = logging.getLogger(__name__)


def install_worker_hooks(app: BackofficeCelery) -> None:
    """Fresh pools in each forked process; engines disposed when a worker stops."""
    registry = app.registry
    control = registry.control

    def after_fork(**_kw):
        # Connections inherited from the parent must not be used (nor closed) here.
        control.engine.dispose(close=False)
        control.events.after_fork()  # the store-changed listener thread did not survive

    def shutdown(**_kw):
        registry.engines.dispose()
        control.dispose()
        log.info("worker stopped: store engines and control engine disposed")

    signals.worker_process_init.connect(after_fork, weak=False, dispatch_uid="bo-fork")
    signals.worker_process_shutdown.connect(shutdown, weak=False, dispatch_uid="bo-child-stop")
    signals.worker_shutdown.connect(shutdown, weak=False, dispatch_uid="bo-stop")
    log_like_the_app(registry.settings)


def run_worker(
    app: BackofficeCelery,
    *,
    concurrency: int | None,
    loglevel: str,
    pool: str,
    hostname: str | None,
    beat: bool = False,
    schedule_file: str | None = None,
) -> int:
    install_worker_hooks(app)
    options = {"beat": True, "schedule_filename": schedule_file} if beat else {}
    worker = app.Worker(
        concurrency=concurrency,
        loglevel=loglevel.upper(),
        pool_cls=pool,
        hostname=hostname,
        **options,
    )
    worker.start()
    return worker.exitcode or 0


def run_beat(app: BackofficeCelery, *, loglevel: str, schedule_file: str | None = None) -> int:
    """Celery beat alone: it only queues the periodic tasks, workers run them."""
    log_like_the_app(app.registry.settings)
    beat = app.Beat(loglevel=loglevel.upper(), schedule=schedule_file)
    beat.run()  # returns when stopped; SIGTERM saves the schedule and exits 0
    return 0


@functools.cache
def app_from_environment() -> BackofficeCelery:
    settings = app_settings.load(os.environ.get("BACKOFFICE_CONFIG"))
    config = configure(settings)
    config.commit()
    app = config.registry.celery
    install_worker_hooks(app)
    return app


def __getattr__(name: str):
    # ``celery -A backoffice.tasks.worker`` looks up ``app`` on this module.
    if name == "app":
        return app_from_environment()
    raise AttributeError(name)
