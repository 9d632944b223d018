"""Sign-in, sign-out, one's own profile and language, and the owner's staff pages."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import forget, remember
from pyramid.view import view_config

from backoffice.audit.services import changed, record
from backoffice.i18n import LOCALES, _
from backoffice.models import StaffUser
from backoffice.security import staff_sessions
from backoffice.security.passwords import hash_password, verify_password
from backoffice.security.policy import begin_second_step, needs_two_factor
from backoffice.security.roles import ROLE_LABELS
from backoffice.staff import services
from backoffice.staff.forms import profile_form, staff_form
from backoffice.web.input import safe_local_path

T = "backoffice:templates/admin/staff/"


def safe_next(request, value: str | None) -> str:
    """Only paths inside this store: never another host (open redirect), never a
    character that breaks the ``Location`` header (``safe_local_path``)."""
    path = safe_local_path(value, prefix="/admin")
    if path is not None:
        return request.application_url + path
    return request.route_url("dashboard.home")


@view_config(
    route_name="staff.login",
    request_method="GET",
    renderer="backoffice:templates/admin/login.jinja2",
)
def login_form(request):
    if request.staff_user is not None:
        return HTTPSeeOther(safe_next(request, request.GET.get("next")))
    return {"error": None, "email": "", "next": request.GET.get("next", "")}


@view_config(
    route_name="staff.login",
    request_method="POST",
    renderer="backoffice:templates/admin/login.jinja2",
)
def login(request):
    email = (request.POST.get("email") or "").strip()[:254]
    next_path = request.POST.get("next", "")
    translate = request.localizer.translate
    try:
        user = services.authenticate(
            request.db, email, request.POST.get("password") or "", request.client_ip
        )
    except services.Throttled:
        request.response.status = 429
        return {
            "error": translate(
                _("Too many failed attempts. Please wait 15 minutes and try again.")
            ),
            "email": email,
            "next": next_path,
        }
    if user is None:
        request.response.status = 400
        return {
            "error": translate(_("The e-mail or password is not correct.")),
            "email": email,
            "next": next_path,
        }
    request.db.flush()
    if request.two_factor.is_on(user.id):
        begin_second_step(request, user)
        query = {"next": next_path} if next_path else {}
        return HTTPSeeOther(request.route_url("staff.login_code", _query=query))
    services.signed_in(request.db, user, request.registry.staff_session_limits)
    headers = remember(request, user.id, user=user)
    if needs_two_factor(request):  # the store requires it: nothing else until then
        return HTTPSeeOther(request.route_url("staff.two_factor"), headers=headers)
    return HTTPSeeOther(safe_next(request, next_path), headers=headers)


@view_config(route_name="staff.logout", request_method="POST")
def logout(request):
    forget(request)  # this session's row goes: a copy of the cookie opens nothing
    request.session.flash(request.localizer.translate(_("You have signed out.")), "info")
    return HTTPSeeOther(request.route_url("staff.login"))


@view_config(route_name="staff.language", request_method="POST", permission="profile")
def language(request):
    user = request.staff_user
    locale = request.POST.get("locale")
    if locale in LOCALES and locale != user.locale:
        record(
            request,
            "staff.language",
            "staff",
            user.id,
            before={"locale": user.locale},
            after={"locale": locale},
        )
        user.locale = locale
    return HTTPSeeOther(safe_next(request, request.POST.get("next")))


@view_config(
    route_name="staff.profile",
    request_method="GET",
    permission="profile",
    renderer=T + "profile.jinja2",
)
def profile(request):
    user = request.staff_user
    return profile_page(request, {"name": user.name, "locale": user.locale or ""}, {})


def profile_page(request, form: dict, errors: dict) -> dict:
    """The profile form, the member's sessions and whether two-factor sign-in is on."""
    user = request.staff_user
    current = request.staff_session.id_hash
    sessions = staff_sessions.sessions_of(
        request.db, user.id, request.registry.staff_session_limits
    )
    return {
        "form": form,
        "errors": errors,
        # This browser first, then the most recently used (a stable sort).
        "sessions": sorted(sessions, key=lambda s: s.id_hash != current),
        "current_session": current,
        "two_factor_on": request.two_factor.is_on(user.id),
    }


@view_config(
    route_name="staff.profile",
    request_method="POST",
    permission="profile",
    renderer=T + "profile.jinja2",
)
def profile_save(request):
    user = request.staff_user
    form = profile_form(request.POST)
    new_password = form.data.get("new_password")
    if new_password and not verify_password(
        user.password_hash, request.POST.get("current_password") or ""
    ):
        form.error("current_password", _("The current password is not correct."))
    if not form.ok:
        request.response.status = 400
        return profile_page(request, form.data, form.errors)
    before = services.public(user)
    user.name, user.locale = form.data["name"], form.data["locale"] or None
    if new_password:
        user.password_hash = hash_password(new_password)
        # Every session of the account ends; this browser stays signed in under
        # a new session (a copy of its old cookie opens nothing either).
        two_factor = request.staff_session.two_factor
        staff_sessions.end_all(request.db, user.id)
        remember(request, user.id, user=user, two_factor=two_factor)
    old, new = changed(before, services.public(user))
    if new_password:
        new["password"] = "changed"
    if new:
        record(request, "staff.profile", "staff", user.id, before=old, after=new)
    request.session.flash(request.localizer.translate(_("Your profile is saved.")), "success")
    return HTTPSeeOther(request.route_url("staff.profile"))


@view_config(route_name="staff.list", permission="staff.manage", renderer=T + "list.jinja2")
def staff_list(request):
    return {
        "staff": services.staff_list(request.db),
        "role_labels": ROLE_LABELS,
        "require_two_factor": request.store_config.require_two_factor,
    }


@view_config(
    route_name="staff.new",
    request_method="GET",
    permission="staff.manage",
    renderer=T + "edit.jinja2",
)
def staff_new(request):
    return {"member": None, "form": {"role": "support"}, "errors": {}, "role_labels": ROLE_LABELS}


@view_config(
    route_name="staff.new",
    request_method="POST",
    permission="staff.manage",
    renderer=T + "edit.jinja2",
)
def staff_create(request):
    form = staff_form(request.POST, new=True)
    if form.ok and services.email_taken(request.db, form.data["email"]):
        form.error("email", _("Someone with this e-mail is already on the staff."))
    if not form.ok:
        request.response.status = 400
        return {
            "member": None,
            "form": form.data,
            "errors": form.errors,
            "role_labels": ROLE_LABELS,
        }
    password = form.data["password"] or services.temporary_password()
    member = StaffUser(
        email=form.data["email"],
        name=form.data["name"],
        role=form.data["role"],
        password_hash=hash_password(password),
        is_active=True,
        failed_logins=0,
    )
    request.db.add(member)
    request.db.flush()
    record(request, "staff.create", "staff", member.id, after=services.public(member))
    # A generated password is shown once, here, to hand over; never stored in the cookie.
    return {
        "member": member,
        "form": form.data,
        "errors": {},
        "role_labels": ROLE_LABELS,
        "created": True,
        "temporary_password": None if form.data["password"] else password,
    }


def member_or_404(request) -> StaffUser:
    member = request.db.get(StaffUser, int(request.matchdict["id"]))
    if member is None:
        raise HTTPNotFound()
    return member


@view_config(
    route_name="staff.edit",
    request_method="GET",
    permission="staff.manage",
    renderer=T + "edit.jinja2",
)
def staff_edit(request):
    member = member_or_404(request)
    return {
        "member": member,
        "form": services.public(member),
        "errors": {},
        "role_labels": ROLE_LABELS,
        "two_factor_on": request.two_factor.is_on(member.id),
    }


@view_config(
    route_name="staff.edit",
    request_method="POST",
    permission="staff.manage",
    renderer=T + "edit.jinja2",
)
def staff_update(request):
    member = member_or_404(request)
    form = staff_form(request.POST, new=False)
    losing_owner = (
        member.role == "owner"
        and member.is_active
        and (form.data.get("role") != "owner" or not form.data.get("is_active"))
    )
    if losing_owner and services.active_owners(request.db) <= 1:
        form.error("role", _("The store needs at least one active owner."))
    if member.id == request.staff_user.id and not form.data.get("is_active"):
        form.error("is_active", _("You cannot disable your own account."))
    if not form.ok:
        request.response.status = 400
        return {
            "member": member,
            "form": {**form.data, "email": member.email},
            "errors": form.errors,
            "role_labels": ROLE_LABELS,
            "two_factor_on": request.two_factor.is_on(member.id),
        }
    before = services.public(member)
    member.name, member.role = form.data["name"], form.data["role"]
    member.is_active = form.data["is_active"]
    if form.data["password"]:
        member.password_hash = hash_password(form.data["password"])
    if services.ends_sessions(before, member, password_changed=bool(form.data["password"])):
        # The owner editing themselves keeps this browser signed in.
        keep = request.staff_session.id_hash if member.id == request.staff_user.id else None
        staff_sessions.end_all(request.db, member.id, keep=keep)
    old, new = changed(before, services.public(member))
    if form.data["password"]:
        new["password"] = "changed"
    if new:
        record(request, "staff.update", "staff", member.id, before=old, after=new)
    request.session.flash(
        request.localizer.translate(_("${email} is saved.", mapping={"email": member.email})),
        "success",
    )
    return HTTPSeeOther(request.route_url("staff.list"))
