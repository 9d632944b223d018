"""The back-office security policy: staff of the request's store, by role.

``request.identity`` is the signed-in ``StaffUser`` of the request's store (or
None). The signed cookie holds the store id and a session token; the token's
SHA-256 must name a live row of the store's ``staff_sessions``
(``staff_sessions.py``), read in the same statement as the member and the
store's settings. A cookie replayed on another store, kept after sign-out, or
after the member's sessions were ended (password, role, account disabled,
two-factor reset) identifies nobody.

When the store requires two-factor sign-in, a member whose session did not
pass a second factor is allowed only the enrolment pages (``ENROLMENT_ROUTES``);
``backoffice.admin.views.forbidden`` sends them there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pyramid.security import Allowed, Denied
from sqlalchemy import bindparam, select
from sqlalchemy.orm import load_only

from backoffice.models import StaffSession, StaffUser
from backoffice.models.base import utcnow
from backoffice.security import staff_sessions
from backoffice.security.roles import role_allows
from backoffice.store.services import prime_config, settings_json

# Set by the tenant tween (``backoffice.binding``) once the store is resolved.
BOUND_KEY = "backoffice.tenant"
# What a member who must enrol in two-factor sign-in may still open.
ENROLMENT_ROUTES = frozenset({"staff.two_factor", "staff.language"})


@dataclass(frozen=True)
class CurrentSession:
    """``request.staff_session``: the row behind the signed-in request."""

    id_hash: str
    two_factor: bool


# Built once: building a statement and its cache key is ~0.1 ms of every page.
# Only what a page asks of the signed-in member; the sign-in bookkeeping
# (failed logins, lock, last login, created) loads if something reads it. The
# session row is found by its primary key and joins the member by theirs.
_STAFF_WITH_SETTINGS = (
    select(
        StaffUser,
        settings_json(),
        StaffSession.last_seen_at,
        StaffSession.expires_at,
        StaffSession.two_factor,
    )
    .join_from(StaffSession, StaffUser, StaffSession.staff_user_id == StaffUser.id)
    .where(StaffSession.id_hash == bindparam("sid"))
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
    request.staff_session = None
    tenant = request.tenant
    if tenant is None or "bo_session" not in request.cookies:
        return None
    session = request.session
    token = session.get("sid")
    if not isinstance(token, str) or session.get("tid") != tenant.id:
        return None
    id_hash = staff_sessions.token_hash(token)
    # The store's settings come in the same round trip: every page needs them.
    row = request.db.execute(_STAFF_WITH_SETTINGS, {"sid": id_hash}).one_or_none()
    if row is None:
        return None
    user, settings, last_seen, expires, two_factor = row
    prime_config(request, settings)
    now = utcnow()
    if not user.is_active or not request.registry.staff_session_limits.alive(
        now, last_seen, expires
    ):
        return None
    if now - last_seen >= staff_sessions.TOUCH_AFTER:
        staff_sessions.touch(request.db, id_hash, now)
    request.staff_session = CurrentSession(id_hash, bool(two_factor))
    return user


def needs_two_factor(request) -> bool:
    """Signed in, but the store requires a second factor this session lacks."""
    current = request.staff_session if request.staff_user is not None else None
    return (
        current is not None and not current.two_factor and request.store_config.require_two_factor
    )


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
        if needs_two_factor(request):
            route = request.matched_route.name if request.matched_route else None
            if route not in ENROLMENT_ROUTES:
                return Denied("two-factor sign-in required")
        if role_allows(user.role, permission):
            return Allowed(f"role {user.role} has {permission}")
        return Denied(f"role {user.role} lacks {permission}")

    def remember(self, request, userid, **kw):
        """Start a session of ``kw["user"]`` (``two_factor``: a second factor was given)."""
        user: StaffUser = kw["user"]
        two_factor = bool(kw.get("two_factor"))
        session = request.session
        # A new session on sign-in: nothing from before (fixation) survives.
        session.invalidate()
        token, row = staff_sessions.start(
            request.db,
            user,
            request.registry.staff_session_limits,
            two_factor=two_factor,
            ua=request.user_agent or "",
            ip=request.client_ip,
        )
        session.update({"sid": token, "tid": request.tenant.id})
        session.new_csrf_token()
        request.staff_user = user
        request.staff_session = CurrentSession(row.id_hash, two_factor)
        return []

    def forget(self, request, **kw):
        if request.staff_user is not None:  # loads the session row, if any
            staff_sessions.end(request.db, request.staff_session.id_hash)
        request.session.invalidate()
        request.staff_user = None
        request.staff_session = None
        return []


# -- the half-signed-in state between the password and the second factor ------

PENDING_FOR = 300  # seconds to type the code after the password


def begin_second_step(request, user: StaffUser) -> None:
    """The password was right; the cookie names the member, not a session: no
    page is reachable until ``remember`` starts one after the code."""
    session = request.session
    session.invalidate()
    session.update({"tid": request.tenant.id, "pending": user.id, "pending_at": int(time.time())})
    session.new_csrf_token()


def pending_user_id(request) -> int | None:
    session = request.session
    user_id, since = session.get("pending"), session.get("pending_at")
    if (
        not isinstance(user_id, int)
        or not isinstance(since, int)
        or session.get("tid") != request.tenant.id
        or not 0 <= time.time() - since < PENDING_FOR
    ):
        return None
    return user_id
