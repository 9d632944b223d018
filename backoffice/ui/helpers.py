"""What every back-office template can use: navigation, CSRF token, permissions."""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.csrf import get_csrf_token
from pyramid.interfaces import IRoutesMapper

from backoffice.i18n import _

LANGUAGES = (("en", "English"), ("ru", "Русский"), ("uk", "Українська"))

# (route, label, icon, permission, the route prefix that marks it current)
NAV = (
    ("dashboard.home", _("Dashboard"), "◔", "dashboard.view", "dashboard."),
    ("orders.list", _("Orders"), "☰", "orders.view", "orders."),
    ("products.list", _("Products"), "▦", "products.view", "products."),
    ("customers.list", _("Customers"), "☺", "customers.view", "customers."),
    ("staff.list", _("Staff"), "♙", "staff.manage", "staff.list staff.new staff.edit"),
    ("store.settings", _("Settings"), "⚙", "settings.manage", "store."),
    ("payments.gateways", _("Payment methods"), "¤", "settings.manage", "payments.gateway"),
    ("audit.list", _("Audit log"), "✎", "audit.view", "audit."),
    ("apikeys.list", _("API keys"), "⚷", "api.manage", "apikeys."),
    ("webhooks.list", _("Webhooks"), "⇄", "api.manage", "webhooks."),
)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    icon: str
    current: bool


def nav_items(request) -> list[NavItem]:
    route = request.matched_route.name if request.matched_route else ""
    app_url = request.application_url
    return [
        NavItem(app_url + path, label, icon, any(route.startswith(p) for p in prefixes))
        for path, label, icon, prefixes in _menu(request)
    ]


def _menu(request) -> tuple:
    """The entries a role sees, in a language: the same for every page and store,
    so worked out once per role and language (permissions are the role's, see
    ``backoffice.security.roles``), not with ten permission checks, route
    look-ups and translations on every page."""
    key = (request.staff_user.role, request.locale_name)
    cache = request.registry.setdefault("backoffice.nav_menus", {})
    menu = cache.get(key)
    if menu is None:
        translate = request.localizer.translate
        mapper = request.registry.getUtility(IRoutesMapper)
        menu = cache[key] = tuple(
            (mapper.get_route(name).generate({}), translate(label), icon, tuple(prefix.split()))
            for name, label, icon, permission, prefix in NAV
            if mapper.get_route(name) is not None and request.has_permission(permission)
        )
    return menu


def here(request) -> str:
    """This page inside the store, path and query (what sign-in's ``next`` accepts).

    Not ``request.path_qs``: under ``/s/{slug}/`` that starts with the store's prefix.
    """
    query = request.query_string
    return request.path_info + ("?" + query if query else "")


def store_name(request) -> str:
    if request.tenant is None:
        return ""
    return request.store_config.name or request.tenant.name


def take_flash(session, queue: str = "") -> list:
    """The queue's messages, removed; an empty queue leaves the session untouched.

    ``pop_flash`` on an empty queue still marks the session changed, so every
    page would re-sign and re-send the cookie.
    """
    return session.pop_flash(queue) if session.peek_flash(queue) else []


def add_template_globals(event) -> None:
    request = event.get("request")
    if request is None or "nav_items" in event:
        return
    path = request.path_info or ""
    if not path.startswith("/admin"):
        return
    event["csrf_token"] = lambda: get_csrf_token(request)
    event["flashes"] = lambda queue: take_flash(request.session, queue)
    event["can"] = lambda permission: bool(request.has_permission(permission))
    event["languages"] = LANGUAGES
    event["store_name"] = store_name(request)
    event["here"] = here(request)
    event["nav_items"] = nav_items(request) if request.staff_user else []
