"""The shopper's language on the checkout pages.

``?lang=ru`` (the switcher's links) chooses and is remembered in the session;
without a choice the application's negotiation applies (Accept-Language, then
the store's default language). Set before any view runs, so translations,
Babel formatting and the order's ``locale`` agree.
"""

from __future__ import annotations

from storefront.i18n import LOCALES

SESSION_KEY = "storefront.locale"


def chosen_locale(request) -> str | None:
    asked = request.GET.get("lang")
    if asked in LOCALES:
        if request.session.get(SESSION_KEY) != asked:
            request.session[SESSION_KEY] = asked
        return asked
    remembered = request.session.get(SESSION_KEY)
    return remembered if remembered in LOCALES else None


def choose_locale(event) -> None:
    request = event.request
    route = request.matched_route
    if route is None or not route.name.startswith("checkout.") or request.tenant is None:
        return
    locale = chosen_locale(request)
    if locale is not None:
        # locale_name is reified by Pyramid: setting it first wins over negotiation.
        request.locale_name = locale
