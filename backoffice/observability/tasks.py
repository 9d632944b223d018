"""Tasks carry the request id of the request that queued them, and are measured.

Celery's signals are process-wide, so the receivers are connected once and
find the app's ``Metrics`` through the task's Celery app (``app.registry``).
A message sent while a request (or a task) is being served gets the id in a
header; the worker makes it the current id while the task runs, so the
task's log lines carry it. Eager tasks run inside the request: the id is
current already.
"""

from __future__ import annotations

import logging
import time

from celery import signals

from backoffice.observability.context import (
    TASK_HEADER,
    bind_request_id,
    current_request_id,
    unbind_request_id,
    valid_request_id,
)
from backoffice.observability.logs import configure_logging
from backoffice.observability.metrics import metrics_for

log = logging.getLogger(__name__)


def _metrics(task):
    registry = getattr(task.app, "registry", None)
    return metrics_for(registry) if registry is not None else None


def stamp_message(sender=None, headers=None, **_kw) -> None:
    """``before_task_publish``: the current request id goes with the message."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def task_started(task=None, **_kw) -> None:
    """``task_prerun``: start the clock; in a worker, restore the request id."""
    context = task.request
    context.backoffice_started = time.perf_counter()
    if not context.is_eager:
        sent = valid_request_id(getattr(context, TASK_HEADER, None))
        context.backoffice_id_token = bind_request_id(sent)


def task_finished(task=None, state=None, **_kw) -> None:
    """``task_postrun``: count and time the run by its outcome."""
    context = task.request
    started = getattr(context, "backoffice_started", None)
    metrics = _metrics(task)
    if metrics is not None and started is not None:
        # Eagerly a failure propagates before Celery records a state.
        outcome = (state or "failure").lower()
        metrics.observe_task(task.name, outcome, time.perf_counter() - started)
    token = getattr(context, "backoffice_id_token", None)
    if token is not None:
        unbind_request_id(token)
        context.backoffice_id_token = None


def task_failed(sender=None, exception=None, **_kw) -> None:
    """``task_failure``: which exception a task died of (worker only)."""
    metrics = _metrics(sender) if sender is not None else None
    if metrics is not None and exception is not None:
        metrics.task_failed(sender.name, exception)


def connect_task_signals() -> None:
    signals.before_task_publish.connect(stamp_message, weak=False, dispatch_uid="bo-obs-publish")
    signals.task_prerun.connect(task_started, weak=False, dispatch_uid="bo-obs-prerun")
    signals.task_postrun.connect(task_finished, weak=False, dispatch_uid="bo-obs-postrun")
    signals.task_failure.connect(task_failed, weak=False, dispatch_uid="bo-obs-failure")


def log_like_the_app(settings) -> None:
    """A worker logs through ``configure_logging`` (format, request ids), not
    Celery's own set-up: Celery skips its own when ``setup_logging`` has a receiver."""

    def setup(loglevel=None, **_kw):
        configure_logging(settings, level=loglevel or "INFO")

    signals.setup_logging.connect(setup, weak=False, dispatch_uid="bo-obs-logging")
