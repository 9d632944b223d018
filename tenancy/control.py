"""The control plane as one object: settings, key ring, control DB, backends.

Built once per process (web app, worker, CLI, tests) from the same settings.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from tenancy.db import control_engine, session_factory
from tenancy.events import store_events, watch
from tenancy.keyring import KeyRing, load_keyring
from tenancy.models import DatabaseServer, Tenant
from tenancy.servers import DatabaseBackend, ServerError, backend_for, kind_of
from tenancy.settings import as_int


class NotFound(LookupError):
    """No such store or server; the message names what was asked for."""


class ControlPlane:
    def __init__(self, settings: Mapping[str, str], *, keyring: KeyRing | None = None):
        self.settings = dict(settings)
        self.keyring = keyring or load_keyring(self.settings)
        self.engine = control_engine(self.settings)
        self.sessions = session_factory(self.engine)
        # "Store changed" for every process: published when a control session
        # that bumped a store's version commits (tenancy/events.py).
        self.events = store_events(self.settings)
        watch(self.sessions, self.events)
        self._backends: dict[tuple[int, str], DatabaseBackend] = {}
        self._lock = threading.Lock()

    def session(self) -> Session:
        return self.sessions()

    # -- servers ---------------------------------------------------------
    def add_server(
        self,
        session: Session,
        name: str,
        url: str,
        *,
        default: bool = False,
        user_host: str | None = None,
    ) -> DatabaseServer:
        kind = kind_of(url)
        if session.scalar(select(DatabaseServer).where(DatabaseServer.name == name)):
            raise ServerError(f"a server named {name!r} is already registered")
        server = DatabaseServer(
            name=name,
            kind=kind,
            is_default=default,
            user_host=user_host or self.settings["backoffice.db_user_host"],
        )
        server.admin_url_encrypted = self.keyring.encrypt_text(url, context=server.secret_context)
        if default or not session.scalar(select(DatabaseServer.id).limit(1)):
            for other in session.scalars(select(DatabaseServer)):
                other.is_default = False
            server.is_default = True
        session.add(server)
        session.flush()
        return server

    def server(self, session: Session, name: str | None = None) -> DatabaseServer:
        query = select(DatabaseServer)
        query = (
            query.where(DatabaseServer.name == name)
            if name
            else query.where(DatabaseServer.is_default.is_(True))
        )
        server = session.scalar(query)
        if server is None:
            raise NotFound(
                f"no database server named {name!r}"
                if name
                else "no default database server: run 'backoffice servers add'"
            )
        return server

    def admin_url(self, server: DatabaseServer) -> str:
        return self.keyring.decrypt_text(server.admin_url_encrypted, context=server.secret_context)

    def backend(self, server: DatabaseServer) -> DatabaseBackend:
        key = (server.id, server.admin_url_encrypted)
        with self._lock:
            backend = self._backends.get(key)
            if backend is None:
                backend = backend_for(
                    server.kind,
                    self.admin_url(server),
                    server.user_host,
                    as_int(self.settings, "backoffice.store_max_connections", default="0"),
                )
                self._backends[key] = backend
            return backend

    # -- tenants ---------------------------------------------------------
    def tenant(self, session: Session, slug: str) -> Tenant:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise NotFound(f"no store with slug {slug!r}")
        return tenant

    def password(self, tenant: Tenant) -> str:
        return self.keyring.decrypt_text(
            tenant.db_password_encrypted, context=tenant.password_context
        )

    def runtime_url(self, tenant: Tenant) -> URL:
        """How the web app and workers reach the store: its own MySQL user."""
        return self.backend(tenant.server).runtime_url(
            tenant.database_name, tenant.db_user, self.password(tenant)
        )

    def dispose(self) -> None:
        for backend in self._backends.values():
            backend.dispose()
        self._backends.clear()
        self.engine.dispose()
        self.events.close()
