"""Who may do what: every protected page and form, for owner, manager and support.

The table below names every view that needs a permission; a test checks it
against the app's registered views, and another that docs/permissions.md and
the table in ``backoffice/security/roles.py`` say what ``PERMISSIONS`` does.
Allowed requests use harmless payloads (unknown ids, empty forms), so the
answer is anything but 403; refused ones must be 403 with nothing changed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyramid.interfaces import IRoutesMapper
from sqlalchemy import select

import backoffice.security.roles as roles_module
from backoffice.models import Customer, Order, OrderEvent, Product, StaffUser
from backoffice.security.roles import PERMISSIONS, ROLES
from tests.backoffice.admin_world import *  # noqa: F403  (fixtures, found by name)
from tests.backoffice.admin_world import World

DOCS = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
NO = "999999999"  # an id no table has: an allowed request reaches the view and gets 404

# (method, route name, path, permission, form data)
ACTIONS = [
    ("GET", "dashboard.home", "/dashboard", "dashboard.view", None),
    ("GET", "orders.list", "/orders", "orders.view", None),
    ("GET", "orders.detail", "/orders/{order}", "orders.view", None),
    ("GET", "payments.order", "/orders/{order}/payments", "orders.view", None),
    ("GET", "orders.export", "/orders/export.csv", "orders.export", None),
    ("POST", "orders.bulk", "/orders/bulk", "orders.bulk", {"status": "confirmed"}),
    ("POST", "orders.status", f"/orders/{NO}/status", "orders.update", {"status": "confirmed"}),
    ("POST", "orders.note", f"/orders/{NO}/notes", "orders.note", {"text": "hello"}),
    ("POST", "payments.refund", f"/orders/{NO}/refund", "orders.refund", {"amount": ""}),
    ("POST", "payments.record", f"/orders/{NO}/payments/record", "orders.refund", {"amount": ""}),
    ("GET", "products.list", "/products", "products.view", None),
    ("GET", "products.new", "/products/new", "products.edit", None),
    ("POST", "products.new", "/products/new", "products.edit", {}),
    ("GET", "products.edit", "/products/{product}", "products.view", None),
    ("POST", "products.edit", f"/products/{NO}", "products.edit", {}),
    ("POST", "products.delete", f"/products/{NO}/delete", "products.edit", {}),
    ("GET", "customers.list", "/customers", "customers.view", None),
    ("GET", "customers.detail", "/customers/{customer}", "customers.view", None),
    ("GET", "staff.list", "/staff", "staff.manage", None),
    ("GET", "staff.new", "/staff/new", "staff.manage", None),
    ("POST", "staff.new", "/staff/new", "staff.manage", {}),
    ("GET", "staff.edit", "/staff/{staff}", "staff.manage", None),
    ("POST", "staff.edit", f"/staff/{NO}", "staff.manage", {}),
    ("POST", "staff.require_two_factor", "/staff/two-factor", "staff.manage", {}),
    ("POST", "staff.two_factor_reset", f"/staff/{NO}/two-factor/reset", "staff.manage", {}),
    ("GET", "store.settings", "/settings", "settings.manage", None),
    ("POST", "store.settings", "/settings", "settings.manage", {}),
    ("GET", "store.statuses", "/settings/statuses", "settings.manage", None),
    ("POST", "store.statuses", "/settings/statuses", "settings.manage", {"remove.new": "1"}),
    ("GET", "payments.gateways", "/payments", "settings.manage", None),
    ("GET", "payments.gateway", "/payments/sandbox", "settings.manage", None),
    ("POST", "payments.gateway", "/payments/no-such-gateway", "settings.manage", {}),
    (
        "POST",
        "payments.gateway_enabled",
        "/payments/no-such-gateway/enabled",
        "settings.manage",
        {"enabled": "1"},
    ),
    ("GET", "audit.list", "/audit", "audit.view", None),
    ("GET", "apikeys.list", "/api-keys", "api.manage", None),
    ("POST", "apikeys.list", "/api-keys", "api.manage", {"name": ""}),
    ("POST", "apikeys.revoke", f"/api-keys/{NO}/revoke", "api.manage", {}),
    ("GET", "webhooks.list", "/webhooks", "api.manage", None),
    ("POST", "webhooks.list", "/webhooks", "api.manage", {"url": ""}),
    ("POST", "webhooks.disable", f"/webhooks/{NO}/disable", "api.manage", {}),
    ("GET", "webhooks.deliveries", "/webhooks/deliveries", "api.manage", None),
    ("GET", "staff.profile", "/profile", "profile", None),
    ("POST", "staff.profile", "/profile", "profile", {"new_password": "short"}),
    ("POST", "staff.language", "/profile/language", "profile", {"locale": "xx"}),
    ("GET", "staff.two_factor", "/profile/two-factor", "profile", None),
    ("POST", "staff.two_factor", "/profile/two-factor", "profile", {"code": ""}),
    ("POST", "staff.two_factor_off", "/profile/two-factor/off", "profile", {"password": ""}),
    # Ends the member's other sessions: this client's own stays.
    ("POST", "staff.sessions_end", "/profile/sessions/end-others", "profile", {}),
]


def ids(world: World) -> dict:
    first = {
        name: world.scalar(select(model.id).order_by(model.id).limit(1))
        for name, model in (
            ("order", Order),
            ("product", Product),
            ("customer", Customer),
            ("staff", StaffUser),
        )
    }
    return {k: str(v) for k, v in first.items()}


@pytest.fixture(scope="module")
def clients(owner_m, manager_m, support_m):
    return {"owner": owner_m, "manager": manager_m, "support": support_m}


def call(client, method, path, data):
    if method == "GET":
        return client.get(path, expect_errors=True)
    return client.post(path, data, expect_errors=True)


@pytest.mark.parametrize("role", ROLES)
def test_every_protected_action_per_role(world, clients, role):
    client = clients[role]
    wrong = []
    for method, _route, template, permission, data in ACTIONS:
        path = template.format(**ids(world))
        before = world.checksums() if method == "POST" else None
        res = call(client, method, path, data)
        allowed = role in PERMISSIONS[permission]
        if (allowed and res.status_int in (403, 500)) or (not allowed and res.status_int != 403):
            wrong.append((method, path, res.status_int))
        if not allowed and method == "POST" and world.checksums() != before:
            wrong.append((method, path, "changed data"))
        if not allowed:
            assert res.html.find("h1").get_text().strip() == "Access denied", path
    assert wrong == []


def test_the_action_table_covers_every_protected_view(world):
    """Every view with a permission is in ACTIONS, with the same permission."""
    registered = set()
    for item in world.wsgi.registry.introspector.get_category("views"):
        view = item["introspectable"]
        permissions = [r["value"] for r in item["related"] if r.category_name == "permissions"]
        if not permissions or not view["route_name"]:
            continue
        methods = view["request_methods"] or ("GET",)
        for method in (methods,) if isinstance(methods, str) else methods:
            if method != "HEAD":
                registered.add((method, view["route_name"], permissions[0]))
    mapper = world.wsgi.registry.getUtility(IRoutesMapper)
    registered = {r for r in registered if mapper.get_route(r[1]).pattern.startswith("/admin")}
    assert {(m, r, p) for m, r, _path, p, _d in ACTIONS} == registered


def test_support_cannot_refund_bulk_export_or_edit_but_can_work_an_order(world, support_m):
    order_id = world.add_order(status="new")
    before = world.checksums()
    support_m.post(f"/orders/{order_id}/refund", {"amount": "1.00"}, status=403)
    support_m.post("/orders/bulk", {"order": [order_id], "status": "confirmed"}, status=403)
    support_m.get("/orders/export.csv", status=403)
    support_m.post("/products/new", {"sku": "SUP-1", "name": "No", "price": "1"}, status=403)
    support_m.post("/staff/new", {"email": "s2@example.com", "role": "owner"}, status=403)
    support_m.post("/settings", {"name": "Mine now"}, status=403)
    assert world.checksums() == before
    page = support_m.get(f"/orders/{order_id}")
    assert page.html.select_one("form[action$='/status']") is not None
    assert page.html.select_one("form[action$='/notes']") is not None
    listing = support_m.get("/orders")
    assert listing.html.select_one("form[action$='/orders/bulk'] select") is None
    assert "Export CSV" not in listing.text
    product = support_m.get(f"/products/{ids(world)['product']}")
    assert product.html.select_one("fieldset[disabled]") is not None
    assert product.html.select_one("form[action$='/delete']") is None
    support_m.post(f"/orders/{order_id}/status", {"status": "confirmed"}, status=303)
    support_m.post(f"/orders/{order_id}/notes", {"text": "called"}, status=303)
    assert [
        e.kind for e in world.rows(select(OrderEvent).where(OrderEvent.order_id == order_id))
    ] == ["created", "status_changed", "note"]


def test_manager_runs_the_shop_but_not_staff_settings_or_audit(world, manager_m):
    before = world.checksums()
    manager_m.post(
        "/staff/new",
        {"email": "m2@example.com", "role": "owner", "password": "long-enough"},
        status=403,
    )
    me = world.scalar(select(StaffUser.id).where(StaffUser.email == "manager@example.com"))
    manager_m.post(f"/staff/{me}", {"role": "owner", "is_active": "1"}, status=403)
    manager_m.post("/settings/statuses", {"remove.cancelled": "1"}, status=403)
    manager_m.get("/audit", status=403)
    assert world.checksums() == before
    nav = " ".join(a.get_text() for a in manager_m.get("/dashboard").html.select("nav.sidebar a"))
    assert "Orders" in nav and "API keys" in nav
    assert "Staff" not in nav and "Settings" not in nav and "Audit log" not in nav


def test_signed_out_people_are_sent_to_sign_in_or_refused(world):
    anonymous = world.client()
    before = world.checksums()
    for method, _route, template, _permission, data in ACTIONS:
        path = template.format(**ids(world))
        if method == "GET":
            res = anonymous.get(path, status=303)
            assert "/admin/login?next=" in res.location, path
        else:
            # No session, so no CSRF token either: refused before the view runs.
            form = {**(data or {}), "csrf_token": "x"}
            res = anonymous.app.post(anonymous.url(path), form, expect_errors=True)
            assert res.status_int in (400, 403), path
    assert world.checksums() == before


def role_table(text: str) -> dict[str, frozenset]:
    """The rows ``| permission | yes/no | yes/no | yes/no | ... |`` of a Markdown table."""
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and all(c in ("yes", "no") for c in cells[1:4]):
            table[cells[0]] = frozenset(
                r for r, c in zip(ROLES, cells[1:4], strict=True) if c == "yes"
            )
    return table


def test_the_documented_permission_tables_match_the_code():
    assert ROLES == ("owner", "manager", "support")
    assert role_table(DOCS.read_text()) == PERMISSIONS
    assert role_table(roles_module.__doc__) == PERMISSIONS
    documented_paths = set(re.findall(r"`(/[^`]+)`", DOCS.read_text()))
    for _method, _route, path, _permission, _data in ACTIONS:
        generic = re.sub(r"/(\{\w+\}|\d+|sandbox|no-such-gateway)(?=/|$)", "/{x}", path)
        assert any(re.sub(r"\{\w+\}", "{x}", p) == generic for p in documented_paths), path


def test_readme_points_to_the_permission_table():
    readme = (DOCS.parents[1] / "README.md").read_text()
    assert "docs/permissions.md" in readme


def test_menus_are_each_roles_language_and_page(world):
    """Menus are worked out once per role and language, then reused: the links
    still carry the store's address, the current page, the role's entries and
    the reader's language."""

    def menu(client, path, **params):
        page = client.app.get(client.url(path), params)
        return [
            (a.get_text(" ", strip=True), a["href"], a.get("aria-current"))
            for a in page.html.select("nav.sidebar a")
        ]

    owner, support = world.client("owner"), world.client("support")
    for _ in range(2):  # the second round is served from the cache
        orders = menu(owner, "/orders")
        assert [label for label, _h, _c in orders][:2] == ["◔ Dashboard", "☰ Orders"]
        assert all(
            h.startswith(f"http://localhost/s/{world.store.slug}/admin/") for _l, h, _c in orders
        )
        assert [label for label, _h, current in orders if current] == ["☰ Orders"]
        assert [label for label, _h, current in menu(owner, "/products") if current] == [
            "▦ Products"
        ]
        seen = {label for label, _h, _c in menu(support, "/orders")}
        assert "☰ Orders" in seen and "♙ Staff" not in seen and "⚙ Settings" not in seen
        russian = {label for label, _h, _c in menu(support, "/orders", _LOCALE_="ru")}
        assert "☰ Заказы" in russian and "♙ Сотрудники" not in russian
