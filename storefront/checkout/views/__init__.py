"""Views of the hosted checkout; what every page of it shows (store, language, steps)."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString

from backoffice.models import StoreSetting
from backoffice.store.forms import MAX_LOGO_URL, logo_url_error
from backoffice.ui.helpers import take_flash
from storefront.i18n import LANGUAGES, _

T = "storefront:checkout/templates/"
STEPS = (
    ("checkout.cart", _("Cart")),
    ("checkout.details", _("Details")),
    ("checkout.payment", _("Payment")),
    ("checkout.review", _("Review")),
)
FLASH_INFO, FLASH_ERROR = "checkout", "checkout-error"


def store_logo(request) -> str | None:
    """The ``logo_url`` store setting, if it is an https or same-site URL."""
    row = request.db.get(StoreSetting, "logo_url")
    url = (row.value or "").strip() if row is not None else ""
    if not url or len(url) > MAX_LOGO_URL or logo_url_error(url):
        return None
    return url


def language_links(request, fallback_route: str) -> list[dict]:
    links = []
    for code, name in LANGUAGES:
        if request.method == "GET" and request.matched_route is not None:
            query = [(k, v) for k, v in request.GET.items() if k != "lang"] + [("lang", code)]
            url = request.current_route_url(_query=query)
        else:
            url = request.route_url(fallback_route, _query={"lang": code})
        links.append(
            {"code": code, "name": name, "url": url, "current": code == request.locale_name}
        )
    return links


def step_links(request, current: str | None) -> list[dict]:
    if current is None:
        return []
    names = [name for name, _label in STEPS]
    at = names.index(current)
    translate = request.localizer.translate
    return [
        {
            "label": translate(label),
            "url": request.route_url(name),
            "state": "done" if i < at else "current" if i == at else "todo",
        }
        for i, (name, label) in enumerate(STEPS)
    ]


def translated(request, value):
    """Translation strings (and dicts of them, e.g. form errors) in the shopper's language."""
    translate = request.localizer.translate
    if isinstance(value, TranslationString):
        return translate(value)
    if isinstance(value, dict) and any(isinstance(v, TranslationString) for v in value.values()):
        return {
            k: translate(v) if isinstance(v, TranslationString) else v for k, v in value.items()
        }
    return value


def page(request, step: str | None = None, **values) -> dict:
    """The template values every checkout page needs, plus the view's own."""
    values = {key: translated(request, value) for key, value in values.items()}
    config = request.store_config
    fmt = request.fmt
    currency = values.pop("currency", config.currency)
    return {
        "store_name": config.name or request.tenant.name,
        "logo_url": store_logo(request),
        "languages": language_links(request, step or "checkout.cart"),
        "steps": step_links(request, step),
        "notices": take_flash(request.session, FLASH_INFO),
        "alerts": take_flash(request.session, FLASH_ERROR),
        "csrf_token": get_csrf_token(request),
        "fmt": fmt,
        "money": lambda minor: fmt.money(minor, currency),
        **values,
    }


def flash(request, message, error: bool = False) -> None:
    request.session.flash(
        request.localizer.translate(message), FLASH_ERROR if error else FLASH_INFO
    )


def see_other(request, route: str, **kw) -> HTTPSeeOther:
    return HTTPSeeOther(request.route_url(route, **kw))
