"""Page numbers from the query string: a bad value is a clear 400, never a 500."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from backoffice.i18n import _

MAX_PAGE = 100_000


def parse_page(raw: str | None) -> int | None:
    """The page number in ``raw`` (empty: 1), or None unless it is 1 to ``MAX_PAGE``.

    ASCII digits only: ``str.isdigit`` also accepts "²" and 5,000-digit strings,
    on which ``int`` raises.
    """
    raw = raw or "1"
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_PAGE)):
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_PAGE else None


def page_number(request) -> int:
    number = parse_page(request.GET.get("page"))
    if number is None:
        raise HTTPBadRequest(
            request.localizer.translate(
                _(
                    "The page number must be a whole number from 1 to ${max}.",
                    mapping={"max": MAX_PAGE},
                )
            )
        )
    return number
