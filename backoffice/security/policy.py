"""The back-office security policy: staff of the request's store, by role.

``request.identity`` is the signed-in ``StaffUser`` of the request's store (or
None). The session remembers the user id, the store id and a fingerprint of the
password hash: a cookie replayed on another store, or kept after a password
change or after the account was disabled, identifies nobody.
"""

from __future__ import annotations

import hashlib

from pyramid.security import Allowed, Denied
from sqlalchemy import bindparam, select
from sqlalchemy.orm import load_only

from backoffice.models import StaffUser
from backoffice.security.roles import role_allows
from backoffice.store.services import prime_config, settings_json

# Set by the tenant tween (``backoffice.binding``) once the store is resolved.
BOUND_KEY = "backoffice.tenant"


def fingerprint(user: StaffUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


# Built once: building a statement and its cache key is ~0.1 ms of every page.
# Only what a page asks of the signed-in member; the sign-in bookkeeping
# (failed logins, lock, last login, created) loads if something reads it.
_STAFF_WITH_SETTINGS = (
    select(StaffUser, settings_json())
    .where(StaffUser.id == bindparam("id"))
    .options(
        load_only(
            StaffUser.email,
            StaffUser.name,
            StaffUser.role,
            StaffUser.password_hash,
            StaffUser.locale,
            StaffUser.is_active,
        )
    )
)


def load_staff_user(request) -> StaffUser | None:
    """Reified as ``request.staff_user``; the policy's identity."""
    tenant = request.tenant
    if tenant is None or "bo_session" not in request.cookies:
        return None
    session = request.session
    user_id = session.get("uid")
    if user_id is None or session.get("tid") != tenant.id:
        return None
    # The store's settings come in the same round trip: every page needs them.
    row = request.db.execute(_STAFF_WITH_SETTINGS, {"id": user_id}).one_or_none()
    if row is None:
        return None
    user, settings = row
    prime_config(request, settings)
    if not user.is_active or session.get("ver") != fingerprint(user):
        return None
    return user


def _identity(request) -> StaffUser | None:
    # pyramid_tm asks for the user id (to annotate the transaction) before the
    # tenant tween has bound the store; answering then must not reify
    # ``request.tenant`` or ``request.staff_user`` as None for the whole request.
    if BOUND_KEY not in request.environ:
        return None
    return request.staff_user


class StaffSecurityPolicy:
    def identity(self, request):
        return _identity(request)

    def authenticated_userid(self, request):
        user = _identity(request)
        return user.id if user is not None else None

    def permits(self, request, context, permission):
        user = _identity(request)
        if user is None:
            return Denied("not signed in")
        if role_allows(user.role, permission):
            return Allowed(f"role {user.role} has {permission}")
        return Denied(f"role {user.role} lacks {permission}")

    def remember(self, request, userid, **kw):
        user: StaffUser = kw["user"]
        session = request.session
        # A new session on sign-in: nothing from before (fixation) survives.
        session.invalidate()
        session.update({"uid": user.id, "tid": request.tenant.id, "ver": fingerprint(user)})
        session.new_csrf_token()
        request.staff_user = user
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        request.staff_user = None
        return []
