"""The back-office entry point and what happens when access is denied."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import forbidden_view_config, view_config

from backoffice.security.policy import needs_two_factor
from backoffice.ui.helpers import here
from backoffice.views.errors import error_response


@view_config(route_name="admin.home")
@view_config(route_name="admin.home_bare")
def home(request):
    if request.staff_user is None:
        return HTTPSeeOther(request.route_url("staff.login"))
    return HTTPSeeOther(request.route_url("dashboard.home"))


@forbidden_view_config()
def forbidden(exc, request):
    """Signed-out people are sent to sign in; those the store requires to set up
    two-factor sign-in, to its page; signed-in ones lacking a role get 403."""
    path = request.path_info or ""
    if (
        request.tenant is not None
        and request.staff_user is None
        and path.startswith("/admin")
        and request.method in {"GET", "HEAD"}
    ):
        return HTTPSeeOther(request.route_url("staff.login", _query={"next": here(request)}))
    if request.method in {"GET", "HEAD"} and needs_two_factor(request):
        return HTTPSeeOther(request.route_url("staff.two_factor"))
    return error_response(request, 403)
