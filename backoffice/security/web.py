"""Wiring of staff security into Pyramid.

``includeme`` installs the per-store signed cookie session, the limits of the
server-side staff sessions (``registry.staff_session_limits``), the security
policy and ``request.staff_user``. CSRF checks on every unsafe method are the app's
default, set first in ``backoffice.config.configure`` (views that verify
signatures instead, such as payment webhooks, opt out with ``require_csrf=False``).
"""

from __future__ import annotations

from backoffice.security.policy import StaffSecurityPolicy, load_staff_user
from backoffice.security.sessions import StoreSessionFactory, session_secret
from backoffice.security.staff_sessions import SessionLimits
from backoffice.security.twofactor import request_two_factor
from tenancy.settings import is_production


def client_ip(request) -> str:
    """The client address, as ``backoffice.web.proxy`` corrected it behind a trusted proxy."""
    return request.remote_addr or "unknown"


def includeme(config) -> None:
    settings = config.registry.settings
    secret = session_secret(settings)
    limits = SessionLimits.from_settings(settings)
    config.registry.staff_session_limits = limits
    config.set_session_factory(
        StoreSessionFactory(
            secret,
            always_secure=is_production(settings),
            timeout=int(limits.idle.total_seconds()),
        )
    )
    config.set_security_policy(StaffSecurityPolicy())
    config.add_request_method(load_staff_user, "staff_user", reify=True)
    config.add_request_method(client_ip, "client_ip", reify=True)
    config.add_request_method(request_two_factor, "two_factor", reify=True)
