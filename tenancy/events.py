""" "Store changed": every process forgets what it cached about a store at once.

Whatever bumps a store's version (suspend, resume, drop, rotate-password,
provisioning, restore, move) changes how the store is reached, but each web
and worker process caches the store for ``backoffice.tenant_cache_ttl``
seconds and keeps an engine on its old credentials. The change is published
after the control DB commits, and every process drops the store's directory
entries and engine when the message arrives; a process that missed messages
(Redis restarted, network cut) clears its whole directory once it is back,
and the TTL bounds staleness meanwhile.

The API, for every code path that changes a store:

* A control session's flush that changes ``Tenant.version`` (``bump_version``)
  or deletes a tenant announces itself: nothing to call.
* ``announce(session, tenant_id, slug)``: for a Core ``UPDATE ... version =
  version + 1`` run through a control session; published when that session
  commits, never if it rolls back.
* ``control.events.publish(tenant_id, slug)``: publish now, after committing
  on a plain connection.
* ``control.events.subscribe(callback)``: ``callback(change)`` for every
  change made by any process: a ``StoreChange``, or ``None`` for "anything may
  have changed" (messages were lost). A bound method is held weakly, so a
  subscriber lives no longer than its object.

With Redis (``tenancy.settings.redis_url``) the messages go through a pub/sub
channel and each process listens in a background thread; without it
(the embedded default) subscribers of the same process are called at once.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import redis
from sqlalchemy import event
from sqlalchemy import inspect as orm_state
from sqlalchemy.orm import Session, sessionmaker

from tenancy.models import Tenant
from tenancy.settings import redis_prefix, redis_url

log = logging.getLogger(__name__)

PENDING = "tenancy.events.pending"  # session.info: {tenant id: slug} to publish on commit


@dataclass(frozen=True)
class StoreChange:
    tenant_id: int
    slug: str | None = None


Subscriber = Callable[[StoreChange | None], None]


class LocalEvents:
    """One process: subscribers are called in the publisher's thread."""

    def __init__(self):
        self._subscribers: list[Callable[[], Subscriber | None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> None:
        if inspect.ismethod(callback):
            ref: Callable[[], Subscriber | None] = weakref.WeakMethod(callback)
        else:
            ref = lambda: callback  # noqa: E731 -- a plain function is held strongly
        with self._lock:
            self._subscribers.append(ref)

    def publish(self, tenant_id: int, slug: str | None = None) -> None:
        self.deliver(StoreChange(int(tenant_id), slug))

    def deliver(self, change: StoreChange | None) -> None:
        with self._lock:
            self._subscribers = [ref for ref in self._subscribers if ref() is not None]
            callbacks = [ref() for ref in self._subscribers]
        for callback in callbacks:
            if callback is None:
                continue
            try:
                callback(change)
            except Exception:  # one subscriber's bug must not starve the others
                log.exception("store-changed subscriber failed")

    def after_fork(self) -> None:
        """Called in a forked child (Celery's pool); nothing to restart here."""

    def close(self) -> None:
        pass


class RedisEvents(LocalEvents):
    """Messages through a Redis pub/sub channel, heard by a thread in each process."""

    RETRY_SECONDS = 1.0
    HEALTH_CHECK_SECONDS = 10

    def __init__(self, url: str, channel: str):
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: redis.Redis | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._stop = threading.Event()
        self.ready = threading.Event()  # subscribed (again); tests wait on it
        self.reconnects = 0

    def publish(self, tenant_id: int, slug: str | None = None) -> None:
        self.deliver(StoreChange(int(tenant_id), slug))  # this process: at once
        message = json.dumps({"id": int(tenant_id), "slug": slug})
        try:
            if self._client is None:
                self._client = redis.Redis.from_url(self.url)
            self._client.publish(self.channel, message)
        except redis.RedisError as exc:
            # The others see the change within their cache TTL instead.
            log.warning("could not publish store change %s: %s", message, exc)

    def subscribe(self, callback: Subscriber) -> None:
        super().subscribe(callback)
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="store-events", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        self._listen()
        with self._lock:
            self._thread = None
            again = not self._stop.is_set() and any(r() is not None for r in self._subscribers)
        if again:  # a subscriber came just as the last one went
            self._start()

    def _listening(self) -> bool:
        """Until closed, or until every subscriber is gone (an app thrown away)."""
        with self._lock:
            alive = any(ref() is not None for ref in self._subscribers)
        return alive and not self._stop.is_set()

    def _listen(self) -> None:
        missed = False
        while self._listening():
            client = redis.Redis.from_url(self.url, health_check_interval=self.HEALTH_CHECK_SECONDS)
            pubsub = client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                while self._listening():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        if missed:  # whatever was published while we were away
                            self.deliver(None)
                            missed = False
                        self.ready.set()
                    elif message["type"] == "message":
                        self.deliver(_parse(message["data"]))
            except (redis.RedisError, OSError) as exc:
                if not missed and not self._stop.is_set():  # once per outage
                    log.warning("store-changed listener lost Redis (%s); reconnecting", exc)
                missed = True
                self.ready.clear()
                self.reconnects += 1
            finally:
                _quietly(pubsub.close)
                _quietly(client.close)
            self._stop.wait(self.RETRY_SECONDS)

    def after_fork(self) -> None:
        """Threads do not survive a fork: listen again in the child if anyone subscribed."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._client = None
        self._thread = None
        self._lock = threading.Lock()
        self.ready.clear()
        if self._subscribers:
            self._start()

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=3)
        if self._client is not None:
            _quietly(self._client.close)


def _parse(data: bytes) -> StoreChange | None:
    try:
        body = json.loads(data)
        return StoreChange(int(body["id"]), body.get("slug"))
    except (ValueError, KeyError, TypeError):
        log.warning("malformed store-changed message %r: forgetting every store", data[:200])
        return None


def _quietly(close: Callable[[], object]) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001 -- closing a dead connection may fail any way
        pass


def store_events(settings: Mapping[str, str]) -> LocalEvents:
    url = redis_url(settings)
    if url is None:
        return LocalEvents()
    return RedisEvents(url, redis_prefix(settings) + "store-changed")


# -- control sessions announce what they change ---------------------------
def announce(session: Session, tenant_id: int, slug: str | None = None) -> None:
    """Publish that the store changed once *session* commits (never on rollback)."""
    session.info.setdefault(PENDING, {})[int(tenant_id)] = slug


def watch(sessions: sessionmaker, events: LocalEvents) -> None:
    """Make every session of *sessions* announce its changes to tenants' versions."""

    def before_flush(session, _context, _instances) -> None:
        for obj in session.deleted:
            if isinstance(obj, Tenant) and obj.id is not None:
                announce(session, obj.id, obj.slug)
        for obj in session.dirty:
            if isinstance(obj, Tenant) and orm_state(obj).attrs.version.history.has_changes():
                announce(session, obj.id, obj.slug)

    def after_commit(session) -> None:
        for tenant_id, slug in session.info.pop(PENDING, {}).items():
            events.publish(tenant_id, slug)

    def after_rollback(session) -> None:
        session.info.pop(PENDING, None)

    event.listen(sessions, "before_flush", before_flush)
    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
