"""The owner's API key pages: list, create (the key is shown once), revoke."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from backoffice.apikeys.services import SCOPES, ApiKeyError, ApiKeyService
from backoffice.audit.services import record as audit
from backoffice.i18n import _

PERMISSION = "api.manage"
TEMPLATE = "backoffice:templates/admin/apikeys/list.jinja2"


def service(request) -> ApiKeyService:
    return ApiKeyService(request.control, request.db, request.tenant.id)


def _page(request, **extra) -> dict:
    return {
        "keys": service(request).list(),
        "scopes": SCOPES,
        "errors": {},
        "form": {},
        "created": None,
        **extra,
    }


def _public(key) -> dict:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "revoked_at": key.revoked_at,
    }


@view_config(
    route_name="apikeys.list", request_method="GET", permission=PERMISSION, renderer=TEMPLATE
)
def list_keys(request):
    return _page(request)


@view_config(
    route_name="apikeys.list", request_method="POST", permission=PERMISSION, renderer=TEMPLATE
)
def create_key(request):
    form = {"name": request.POST.get("name", ""), "scopes": request.POST.getall("scopes")}
    user = request.staff_user
    try:
        created = service(request).create(
            form["name"], form["scopes"], created_by=user.email if user else ""
        )
    except ApiKeyError as exc:
        request.response.status = 422
        return _page(request, errors={"name": exc.args[0]}, form=form)
    # The secret never reaches the log: the prefix names the key.
    audit(request, "apikey.create", "apikey", created.record.id, after=_public(created.record))
    # No redirect: the full key exists only in this response.
    request.response.headers["Cache-Control"] = "no-store"
    return _page(request, created=created)


@view_config(route_name="apikeys.revoke", request_method="POST", permission=PERMISSION)
def revoke_key(request):
    keys = service(request)
    record = keys.get(int(request.matchdict["id"]))
    if record is None:
        raise HTTPNotFound()
    before = _public(record)
    keys.revoke(record)
    audit(request, "apikey.revoke", "apikey", record.id, before=before, after=_public(record))
    directory, tenant = request.registry.directory, request.tenant
    # After commit: an invalidation before it could let a racing lookup re-cache the old row.
    request.tm.get().addAfterCommitHook(
        lambda committed: committed and directory.invalidate(tenant)
    )
    request.session.flash(request.localizer.translate(_("The key was revoked.")), "success")
    return HTTPSeeOther(request.route_url("apikeys.list"))
