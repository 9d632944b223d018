"""Binding each request to its store: ``request.tenant`` and ``request.db``.

A tween (under the exception view tween, so refusals render as proper pages)
resolves the store before routing, strips a ``/s/{slug}`` prefix into the
script name (so generated URLs keep it), and refuses unknown (404), suspended
(403) and busy (503 + Retry-After) stores. ``request.db`` is a session on the
store's own engine, leased from the registry for the request, joined to
``request.tm`` and closed with the request. A request without a store has no
``request.db``: asking for it is a 404.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from functools import partial

import transaction
import zope.sqlalchemy
from pyramid.httpexceptions import HTTPNotFound
from pyramid.tweens import EXCVIEW
from sqlalchemy.orm import Session, sessionmaker

from backoffice import outbox
from backoffice.i18n import _
from backoffice.outbox.tasks import wake as wake_consumers
from tenancy.directory import TenantDirectory
from tenancy.models import BUSY_STATUSES, TenantStatus
from tenancy.registry import EngineRegistry
from tenancy.router import Refused, Resolver

log = logging.getLogger(__name__)

# Operator endpoints belong to no store: they must answer even when the control
# DB (which resolution reads) is down, and whatever Host the prober sends.
OPERATOR_PATHS = frozenset({"/healthz", "/metrics"})


class StatusCounter:
    """Requests per store status, safe to bump from waitress' worker threads."""

    def __init__(self):
        self._counts: Counter = Counter()
        self._lock = threading.Lock()

    def add(self, status: str) -> None:
        with self._lock:
            self._counts[status] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class StoreUnavailable(Exception):
    """The store exists but cannot be served now; carries the HTTP status."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


def tenant_tween_factory(handler, registry):
    resolver = Resolver(registry.directory, registry.settings["backoffice.base_domain"])
    statuses: StatusCounter = registry.request_statuses

    def tween(request):
        if request.path_info in OPERATOR_PATHS:
            request.environ["backoffice.tenant"] = None
            return handler(request)
        try:
            resolution = resolver.resolve(
                request.host or "", request.path_info, request.headers.get("Authorization")
            )
        except Refused as exc:
            statuses.add("refused")
            raise StoreUnavailable(exc.status, str(exc)) from None
        tenant = resolution.tenant
        request.environ["backoffice.tenant"] = tenant
        if tenant is None:
            statuses.add("none")
            return handler(request)
        statuses.add(_status_group(tenant.status))
        if resolution.prefix:
            request.script_name = request.script_name + resolution.prefix
            request.path_info = resolution.rest
        _check_status(tenant)
        return handler(request)

    return tween


def _status_group(status: str) -> str:
    """active / suspended / busy / none: the labels operators alert on."""
    if status in (TenantStatus.ACTIVE, TenantStatus.SUSPENDED):
        return str(status)
    return "busy" if status in BUSY_STATUSES else "none"


def _check_status(tenant) -> None:
    if tenant.status == TenantStatus.ACTIVE:
        return
    if tenant.status == TenantStatus.SUSPENDED:
        raise StoreUnavailable(403, "store suspended")
    if tenant.status in BUSY_STATUSES:
        raise StoreUnavailable(503, f"store {tenant.status}", retry_after=30)
    raise StoreUnavailable(404, "unknown store")


def get_tenant(request):
    return request.environ.get("backoffice.tenant")


def get_db(request) -> Session:
    tenant = request.tenant
    if tenant is None:
        raise HTTPNotFound(
            request.localizer.translate(
                _("This page belongs to a store: open it at the store's own address.")
            )
        )
    engines: EngineRegistry = request.registry.engines
    engine = engines.acquire(tenant)
    session = request.registry.store_sessions(bind=engine)
    # Events published in this request wake the outbox's consumers after commit.
    session.info[outbox.WAKE] = partial(wake_consumers, request)
    if request.tm is not transaction.manager:  # a tm.manager_hook of its own
        zope.sqlalchemy.register(session, transaction_manager=request.tm)

    def finished(_request):
        session.close()
        engines.release(engine)

    request.add_finished_callback(finished)
    return session


def includeme(config) -> None:
    settings = config.registry.settings
    control = config.registry.control
    directory = TenantDirectory(control, ttl=float(settings["backoffice.tenant_cache_ttl"]))
    config.registry.directory = directory
    config.registry.engines = EngineRegistry(control.keyring, settings)
    # A store changed by any process (suspend, rotate, move...): forget it now,
    # not when the cache entry expires (held weakly: they live with this app).
    control.events.subscribe(directory.store_changed)
    control.events.subscribe(config.registry.engines.store_changed)
    config.registry.request_statuses = StatusCounter()
    config.add_request_method(get_tenant, "tenant", reify=True)
    # Sessions join pyramid_tm's (thread-local) transaction manager through
    # listeners registered once here, not on every request's session.
    store_sessions = sessionmaker(class_=Session, expire_on_commit=False)
    zope.sqlalchemy.register(store_sessions, transaction_manager=transaction.manager)
    config.registry.store_sessions = store_sessions
    config.add_request_method(get_db, "db", reify=True)
    config.add_tween("backoffice.binding.tenant_tween_factory", under=EXCVIEW)
