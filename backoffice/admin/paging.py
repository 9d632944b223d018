"""Page numbers from the query string: a bad value is a clear 400, never a 500."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from backoffice.i18n import _

MAX_PAGE = 100_000


def page_number(request) -> int:
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise HTTPBadRequest(request.localizer.translate(
            _("The page number must be a whole number from 1 to ${max}.",
              mapping={"max": MAX_PAGE})))
    return int(raw)
