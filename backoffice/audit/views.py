from __future__ import annotations

from pyramid.view import view_config

from backoffice.audit.services import entities, page
from backoffice.i18n import _
from backoffice.ui.paging import page_number

PER_PAGE = 50
ENTITIES = {
    "order": _("Orders"),
    "product": _("Products"),
    "staff": _("Staff"),
    "settings": _("Settings"),
    "gateway": _("Payment methods"),
    "apikey": _("API keys"),
    "webhook": _("Webhooks"),
}


@view_config(
    route_name="audit.list",
    permission="audit.view",
    renderer="backoffice:templates/admin/audit/list.jinja2",
)
def audit_list(request):
    number = page_number(request)
    translate = request.localizer.translate
    entity = request.GET.get("entity") or None
    actor = (request.GET.get("actor") or "").strip()[:254] or None
    rows, has_next = page(
        request.db, offset=(number - 1) * PER_PAGE, limit=PER_PAGE, entity=entity, actor=actor
    )

    def url_for(n):
        query = {k: v for k, v in {"entity": entity, "actor": actor, "page": n}.items() if v}
        return request.route_url("audit.list", _query=query)

    return {
        "entries": rows,
        "page": number,
        "has_next": has_next,
        "url_for": url_for,
        "entities": entities(request.db),
        "entity": entity or "",
        "actor": actor or "",
        "entity_label": lambda code: translate(ENTITIES[code]) if code in ENTITIES else code,
    }
