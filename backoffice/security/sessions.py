"""Signed cookie sessions, one signing key per store.

The key of a store is derived from ``backoffice.session_secret`` and the store's
id, so a cookie issued by store A does not even verify on store B; the session
also records the store id, checked again by the security policy. Outside
production a missing secret is generated once into ``var/`` next to the
encryption keys; production refuses to start without it.

The cookie only carries the store id, a session token, the CSRF token and
flash messages; whether the session is still alive is the store database's
answer (``staff_sessions.py``): a signed cookie alone cannot be revoked.

The cookie is ``HttpOnly`` and ``SameSite=Lax`` always, and ``Secure`` on https
requests (the scheme as corrected behind a trusted proxy) and on every request
in production: a production deployment is served over https, and a proxy left
untrusted by mistake must not make the cookie travel in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from pyramid.session import SignedCookieSessionFactory

from tenancy.settings import SettingsError, is_production

COOKIE_NAME = "bo_session"
IDLE_TIMEOUT = 12 * 3600
REISSUE_AFTER = 600
_CACHE_CAP = 4096


def session_secret(settings) -> str:
    secret = (settings.get("backoffice.session_secret") or "").strip()
    if secret:
        return secret
    if is_production(settings):
        raise SettingsError(
            "backoffice.session_secret is required in production (set BACKOFFICE_SESSION_SECRET)"
        )
    return _development_secret(Path(settings["backoffice.keys_file"]).parent / "session_secret")


def _development_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; read its secret
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def store_key(secret: str, tenant_id: int | None) -> str:
    label = f"backoffice-session:store:{tenant_id}" if tenant_id else "backoffice-session:none"
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).hexdigest()


class StoreSessionFactory:
    """``request.session``: a signed cookie keyed to the request's store."""

    def __init__(self, secret: str, *, always_secure: bool = False, timeout: int = IDLE_TIMEOUT):
        self.secret = secret
        self.always_secure = always_secure
        self.timeout = timeout
        self._factories: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def __call__(self, request):
        tenant = request.tenant
        secure = self.always_secure or request.scheme == "https"
        key = (tenant.id if tenant else None, secure, request.script_name or "/")
        factory = self._factories.get(key)
        if factory is None:
            factory = self._build(key)
        return factory(request)

    def _build(self, key):
        tenant_id, secure, path = key
        factory = SignedCookieSessionFactory(
            store_key(self.secret, tenant_id),
            cookie_name=COOKIE_NAME,
            path=path,
            secure=secure,
            httponly=True,
            samesite="Lax",
            timeout=self.timeout,
            reissue_time=REISSUE_AFTER,
            max_age=None,
            hashalg="sha256",
        )
        with self._lock:
            if len(self._factories) >= _CACHE_CAP:
                self._factories.clear()
            self._factories[key] = factory
        return factory
