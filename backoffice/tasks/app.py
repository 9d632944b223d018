"""The Celery app, built from the same settings as the web app.

Without ``backoffice.broker_url`` (the embedded default) tasks run eagerly, in
the web process, after the request's transaction commits. With a broker, a
worker (``backoffice worker``) runs them; messages are acknowledged only after
the task ends (``acks_late``) and requeued if the worker process dies
(``task_reject_on_worker_lost``), so a poison message that kills its worker
would loop forever: ``DeliveryCounter`` caps how often one message is run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import redis
from celery import Celery
from celery.schedules import crontab

from tenancy.settings import as_int

log = logging.getLogger(__name__)

DEFAULTS = {
    "backoffice.broker_url": "",
    "backoffice.result_url": "",
    "backoffice.task_max_deliveries": "5",
    "backoffice.task_busy_retry_seconds": "30",
    "backoffice.task_busy_max_retries": "720",
    "backoffice.task_visibility_timeout": "3600",
    "backoffice.task_tenant_cache_ttl": "0",
    "backoffice.task_includes": "",
    # When beat runs (``backoffice beat`` or ``worker --beat``): backups pruned daily at
    # this UTC time (HH:MM); empty turns the schedule off.
    "backoffice.backup_prune_at": "03:30",
    # ... and every active store backed up (one task each) daily at this UTC time.
    "backoffice.backup_all_at": "02:00",
    # Seconds between two sweeps of every store's outbox (``outbox.sweep``); 0: none.
    "backoffice.outbox_sweep_seconds": "60",
}


class DeliveryCounter:
    """Counts, in Redis, how many times one message (task id + retry number) was run.

    A retry is a new message with the same id, so the retry number is part of
    the key: only redeliveries of the same message add up. Keys expire after
    a week; they are tiny.
    """

    TTL = 7 * 24 * 3600

    def __init__(self, url: str):
        self.url = url
        self._client: redis.Redis | None = None

    def key(self, task_id: str, retries: int) -> str:
        return f"backoffice:task-deliveries:{task_id}:{retries}"

    def count(self, task_id: str, retries: int) -> int:
        """This delivery's number (1 for the first). Fails open: Redis down -> 1."""
        if self._client is None:
            self._client = redis.Redis.from_url(self.url)
        key = self.key(task_id, retries)
        try:
            pipe = self._client.pipeline()
            pipe.incr(key)
            pipe.expire(key, self.TTL)
            number, _ = pipe.execute()
        except redis.RedisError as exc:
            # Losing the count is better than losing the task.
            log.warning("delivery counter unavailable (%s); running task %s", exc, task_id)
            return 1
        return int(number)


class BackofficeCelery(Celery):
    """A Celery app that knows the Pyramid registry it was configured with."""

    registry = None
    directory = None
    deliveries: DeliveryCounter | None = None
    max_deliveries = 5
    busy_retry_seconds = 30
    busy_max_retries = 720


def _counter_url(broker_url: str, result_url: str) -> str | None:
    for url in (broker_url, result_url):
        if url.startswith(("redis://", "rediss://", "unix://")):
            return url
    return None


# Beat's entries: name -> (the setting with its UTC time, the task).
DAILY = {
    "backups-all": ("backoffice.backup_all_at", "backups.all"),
    "backups-prune": ("backoffice.backup_prune_at", "backups.prune"),
}


def beat_schedule(settings: Mapping[str, str]) -> dict:
    """The periodic tasks; a bad time is a clear start-up error."""
    schedule = {}
    sweep = as_int({"s": settings.get("backoffice.outbox_sweep_seconds") or "0"}, "s")
    if sweep:
        schedule["outbox-sweep"] = {"task": "outbox.sweep", "schedule": float(sweep)}
    for name, (setting, task) in DAILY.items():
        at = (settings.get(setting) or "").strip()
        if not at:
            continue
        hour, _, minute = at.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"{setting} must be HH:MM (UTC) or empty, not {at!r}")
        schedule[name] = {"task": task, "schedule": crontab(hour=int(hour), minute=int(minute))}
    return schedule


def transport_options(visibility_timeout: int) -> dict:
    """Redis: a message a dead worker held is handed out again once it is
    *visibility_timeout* seconds old. Workers look for such messages when they
    start and then (kombu's defaults) on every tenth sweep of ten seconds, so
    a message could wait 100 s past its time; here every worker looks every
    ``min(10, visibility_timeout)`` seconds (one small Redis query)."""
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": min(10, visibility_timeout),
        "unacked_restore_throttle": 1,
    }


def make_celery(settings: Mapping[str, str]) -> BackofficeCelery:
    merged = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    broker_url = merged["backoffice.broker_url"].strip()
    result_url = merged["backoffice.result_url"].strip()
    eager = not broker_url
    app = BackofficeCelery("backoffice", set_as_current=False)
    app.conf.update(
        broker_url=broker_url or "memory://",
        result_backend=result_url or None,
        task_always_eager=eager,
        task_eager_propagates=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # With acks_late, prefetching more than one message per process only
        # delays other tasks behind a slow one.
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options(
            as_int(merged, "backoffice.task_visibility_timeout", minimum=1)
        ),
        task_default_queue="backoffice",
        worker_hijack_root_logger=True,
    )
    app.conf.beat_schedule = beat_schedule(merged)
    app.max_deliveries = as_int(merged, "backoffice.task_max_deliveries", minimum=1)
    app.busy_retry_seconds = as_int(merged, "backoffice.task_busy_retry_seconds", minimum=0)
    app.busy_max_retries = as_int(merged, "backoffice.task_busy_max_retries", minimum=0)
    counter_url = None if eager else _counter_url(broker_url, result_url)
    if not eager and counter_url is None:
        log.warning("no Redis URL among broker/result URLs: the redelivery cap is off")
    app.deliveries = DeliveryCounter(counter_url) if counter_url else None
    return app
