"""Wiring of staff security into Pyramid.

``includeme`` installs the per-store signed cookie session, the security policy
and ``request.staff_user``. CSRF checks on every unsafe method are the app's
default, set first in ``backoffice.config.configure`` (views that verify
signatures instead, such as payment webhooks, opt out with ``require_csrf=False``).
"""

from __future__ import annotations

from backoffice.security.policy import StaffSecurityPolicy, load_staff_user
from backoffice.security.sessions import StoreSessionFactory, session_secret


def client_ip(request) -> str:
    """The client address; the first X-Forwarded-For hop behind a trusted proxy."""
    if request.registry.settings.get("backoffice.trusted_proxy", "").lower() in {
        "1",
        "true",
        "yes",
        "on",
    }:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client_addr or "unknown"


def includeme(config) -> None:
    secret = session_secret(config.registry.settings)
    config.set_session_factory(StoreSessionFactory(secret))
    config.set_security_policy(StaffSecurityPolicy())
    config.add_request_method(load_staff_user, "staff_user", reify=True)
    config.add_request_method(client_ip, "client_ip", reify=True)
