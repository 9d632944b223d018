"""The second sign-in step, one's own sessions and two-factor sign-in, and the
owner's two-factor controls (``backoffice.security.twofactor``)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import remember
from pyramid.view import view_config
from sqlalchemy import update

from backoffice.audit.services import record
from backoffice.i18n import _
from backoffice.models import StaffSession, StaffUser
from backoffice.security import staff_sessions, throttle
from backoffice.security.passwords import verify_password
from backoffice.security.policy import CurrentSession, needs_two_factor, pending_user_id
from backoffice.security.twofactor import provisioning_uri, qr_svg
from backoffice.staff import services
from backoffice.staff.views import T, member_or_404, safe_next
from backoffice.store.services import REQUIRE_TWO_FACTOR, save_config

CODE_PAGE = "backoffice:templates/admin/login_code.jinja2"


def _again(request):
    message = _("Please sign in again.")
    request.session.flash(request.localizer.translate(message), "info")
    return HTTPSeeOther(request.route_url("staff.login"))


@view_config(route_name="staff.login_code", request_method="GET", renderer=CODE_PAGE)
def code_form(request):
    if pending_user_id(request) is None:
        return _again(request)
    return {"error": None, "next": request.GET.get("next", "")}


@view_config(route_name="staff.login_code", request_method="POST", renderer=CODE_PAGE)
def code_check(request):
    user_id, next_path = pending_user_id(request), request.POST.get("next", "")
    user = request.db.get(StaffUser, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        return _again(request)
    translate, db, ip = request.localizer.translate, request.db, request.client_ip
    if throttle.is_throttled(db, user.email, ip):
        request.response.status = 429
        message = _("Too many failed attempts. Please wait 15 minutes and try again.")
        return {"error": translate(message), "next": next_path}
    row = request.two_factor.row(user.id, for_update=True)
    if row is None or row.confirmed_at is None:  # reset by an owner meanwhile
        return _again(request)
    used = request.two_factor.check(row, request.POST.get("code") or "")
    if used is None:
        throttle.record_failure(db, user.email, ip)
        request.response.status = 400
        return {"error": translate(_("The code is not correct.")), "next": next_path}
    services.signed_in(db, user, request.registry.staff_session_limits)
    headers = remember(request, user.id, user=user, two_factor=True)
    if used == "recovery":
        message = _(
            "You signed in with a recovery code; ${n} left.",
            mapping={"n": len(row.recovery_codes)},
        )
        request.session.flash(translate(message), "info")
    return HTTPSeeOther(safe_next(request, next_path), headers=headers)


@view_config(route_name="staff.sessions_end", request_method="POST", permission="profile")
def end_other_sessions(request):
    user = request.staff_user
    ended = staff_sessions.end_all(request.db, user.id, keep=request.staff_session.id_hash)
    if ended:
        record(request, "staff.sessions_end", "staff", user.id, after={"ended": ended})
    message = _("Signed out everywhere else (${n}).", mapping={"n": ended})
    request.session.flash(request.localizer.translate(message), "success")
    return HTTPSeeOther(request.route_url("staff.profile"))


def _enrolment(request, error: str | None = None) -> dict:
    user = request.staff_user
    row, secret = request.two_factor.enrolment(user)
    uri = provisioning_uri(secret, user.email, request.store_config.name)
    return {
        "on": row.confirmed_at is not None,
        "secret": secret,
        "uri": uri,
        "qr": qr_svg(uri),
        "error": error,
        "required": needs_two_factor(request),
        "recovery_codes": None,
        "store_requires": request.store_config.require_two_factor,
    }


@view_config(
    route_name="staff.two_factor",
    request_method="GET",
    permission="profile",
    renderer=T + "two_factor.jinja2",
)
def two_factor(request):
    if request.two_factor.is_on(request.staff_user.id):
        return {"on": True, "store_requires": request.store_config.require_two_factor}
    return _enrolment(request)


@view_config(
    route_name="staff.two_factor",
    request_method="POST",
    permission="profile",
    renderer=T + "two_factor.jinja2",
)
def two_factor_confirm(request):
    user = request.staff_user
    row, _secret = request.two_factor.enrolment(user)
    if row.confirmed_at is not None:
        return HTTPSeeOther(request.route_url("staff.two_factor"))
    codes = request.two_factor.confirm(row, request.POST.get("code") or "")
    if codes is None:
        request.response.status = 400
        return _enrolment(request, request.localizer.translate(_("The code is not correct.")))
    # This session has given a second factor; sessions that have not, end.
    current = request.staff_session.id_hash
    staff_sessions.end_all(request.db, user.id, keep=current)
    request.db.execute(
        update(StaffSession)
        .where(StaffSession.id_hash == current)
        .values(two_factor=True)
        .execution_options(synchronize_session=False)
    )
    request.staff_session = CurrentSession(current, True)
    record(request, "staff.two_factor", "staff", user.id, after={"two_factor": "on"})
    return {"on": True, "recovery_codes": codes, "store_requires": False}


@view_config(route_name="staff.two_factor_off", request_method="POST", permission="profile")
def two_factor_off(request):
    user, translate = request.staff_user, request.localizer.translate
    if request.store_config.require_two_factor:
        message = _("This store requires two-factor sign-in; an owner can reset it.")
        request.session.flash(translate(message), "error")
    elif not verify_password(user.password_hash, request.POST.get("password") or ""):
        request.session.flash(translate(_("The current password is not correct.")), "error")
    elif request.two_factor.remove(user.id):
        record(request, "staff.two_factor", "staff", user.id, after={"two_factor": "off"})
        request.session.flash(translate(_("Two-factor sign-in is off.")), "success")
    return HTTPSeeOther(request.route_url("staff.two_factor"))


@view_config(route_name="staff.two_factor_reset", request_method="POST", permission="staff.manage")
def two_factor_reset(request):
    member = member_or_404(request)
    if request.two_factor.remove(member.id):
        keep = request.staff_session.id_hash if member.id == request.staff_user.id else None
        staff_sessions.end_all(request.db, member.id, keep=keep)
        record(request, "staff.two_factor", "staff", member.id, after={"two_factor": "reset"})
    message = _(
        "Two-factor sign-in of ${email} is reset; they can set it up again.",
        mapping={"email": member.email},
    )
    request.session.flash(request.localizer.translate(message), "success")
    return HTTPSeeOther(request.route_url("staff.edit", id=member.id))


@view_config(
    route_name="staff.require_two_factor", request_method="POST", permission="staff.manage"
)
def require_two_factor(request):
    translate = request.localizer.translate
    on = request.POST.get("required") == "1"
    before = request.store_config.require_two_factor
    if on and not request.staff_session.two_factor:
        message = _("Set up two-factor sign-in for yourself first.")
        request.session.flash(translate(message), "error")
    elif on != before:
        save_config(request.db, {REQUIRE_TWO_FACTOR: "1" if on else "0"})
        record(
            request,
            "store.require_two_factor",
            "store",
            None,
            before={"require_two_factor": before},
            after={"require_two_factor": on},
        )
        message = (
            _("Every member now signs in with a second factor.")
            if on
            else _("Two-factor sign-in is up to each member.")
        )
        request.session.flash(translate(message), "success")
    return HTTPSeeOther(request.route_url("staff.list"))
