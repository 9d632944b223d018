from __future__ import annotations

from backoffice.i18n import LOCALES, _
from backoffice.security.passwords import MIN_LENGTH
from backoffice.security.roles import ROLES
from backoffice.ui.forms import Form


def password_field(form: Form, name: str = "password", *, required: bool) -> str:
    value = form.params.get(name) or ""
    if (value or required) and len(value) < MIN_LENGTH:
        form.error(name, _("At least ${n} characters.", mapping={"n": MIN_LENGTH}))
    return value


def staff_form(params, *, new: bool) -> Form:
    form = Form(params)
    if new:
        form.email()
    form.text("name", max_length=200)
    form.choice("role", ROLES)
    if not new:
        form.flag("is_active")
    form.data["password"] = password_field(form, required=False)
    return form


def profile_form(params) -> Form:
    form = Form(params)
    form.text("name", max_length=200)
    form.choice("locale", ("", *LOCALES), default="")
    new = params.get("new_password") or ""
    if new:
        form.data["new_password"] = password_field(form, "new_password", required=True)
        if new != params.get("confirm_password"):
            form.error("confirm_password", _("The passwords do not match."))
    return form
