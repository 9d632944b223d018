"""The owner's store settings and order statuses."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, select

from backoffice.audit.services import changed, record
from backoffice.i18n import _
from backoffice.models import Order
from backoffice.store import forms
from backoffice.store.services import KEYS, save_config, save_statuses

T = "backoffice:templates/admin/store/"


def _choices():
    return {"currencies": forms.currencies(), "timezones": forms.timezones()}


@view_config(
    route_name="store.settings",
    request_method="GET",
    permission="settings.manage",
    renderer=T + "settings.jinja2",
)
def settings_page(request):
    return {"form": request.store_config.as_dict(), "errors": {}, **_choices()}


@view_config(
    route_name="store.settings",
    request_method="POST",
    permission="settings.manage",
    renderer=T + "settings.jinja2",
)
def settings_save(request):
    form = forms.settings_form(request.POST)
    if not form.ok:
        request.response.status = 400
        return {"form": form.data, "errors": form.errors, **_choices()}
    before, after = changed(request.store_config.as_dict(), {k: form.data[k] for k in KEYS})
    if after:
        save_config(request.db, after)
        record(request, "settings.update", "settings", None, before=before, after=after)
    request.session.flash(request.localizer.translate(_("The settings are saved.")), "success")
    return HTTPSeeOther(request.route_url("store.settings"))


@view_config(
    route_name="store.statuses",
    request_method="GET",
    permission="settings.manage",
    renderer=T + "statuses.jinja2",
)
def statuses_page(request):
    return {"rows": request.order_flow.as_rows(), "errors": {}}


@view_config(
    route_name="store.statuses",
    request_method="POST",
    permission="settings.manage",
    renderer=T + "statuses.jinja2",
)
def statuses_save(request):
    current = request.order_flow.as_rows()
    form = forms.statuses_form(request.POST, current)
    if "new" in form.data["removed"]:
        form.error("remove.new", _("New orders start in “new”: it cannot be removed."))
    for code in form.data["removed"]:
        in_use = request.db.scalar(
            select(func.count()).select_from(Order).where(Order.status == code)
        )
        if in_use:
            form.error(f"remove.{code}", _("Orders with this status: ${n}.", mapping={"n": in_use}))
    if not form.ok:
        request.response.status = 400
        return {"rows": current, "errors": form.errors}
    save_statuses(request.db, form.data["statuses"])
    record(
        request,
        "settings.statuses",
        "settings",
        None,
        before={"statuses": current},
        after={"statuses": form.data["statuses"]},
    )
    request.session.flash(
        request.localizer.translate(_("The order statuses are saved.")), "success"
    )
    return HTTPSeeOther(request.route_url("store.statuses"))
