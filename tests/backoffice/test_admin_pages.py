"""Every back-office page renders for the owner; products, customers, dashboard, audit, staff.

One store with the demo data per module (``admin_world``); tests that change
data make their own rows (unique SKUs, e-mails, orders).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy import func, select
from webtest import TestResponse

from backoffice.models import AuditEntry, Customer, Order, OrderLine, Product, StaffUser
from tests.backoffice.admin_world import *  # noqa: F403  (fixtures, found by name)
from tests.backoffice.admin_world import ACCOUNTS, World

STORE_ZONE = ZoneInfo("Europe/Kyiv")  # the demo store's timezone (backoffice.demo)


def euro(minor: int) -> str:
    return format_currency(Decimal(minor) / 100, "EUR", locale="en")


def texts(page, selector: str) -> list[str]:
    """Text of each element matching ``selector`` in a response or a soup element."""
    root = page.html if isinstance(page, TestResponse) else page
    return [" ".join(el.get_text(" ").split()) for el in root.select(selector)]


def form_with(page, field: str):
    """The page's form with this field (the layout has forms of its own)."""
    return next(f for f in page.forms.values() if field in f.fields)


def form_to(page, action_end: str):
    return next(f for f in page.forms.values() if (f.action or "").endswith(action_end))


def flash(page) -> str:
    return " ".join(texts(page, ".flash"))


def field_error(page, name: str) -> str:
    el = page.html.find(id=f"{name}-error")
    return el.get_text() if el else ""


def last_audit(world: World, action: str) -> AuditEntry:
    return world.rows(
        select(AuditEntry)
        .where(AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )[0]


def first_id(world: World, model):
    return world.scalar(select(model.id).order_by(model.id).limit(1))


# -- every page -------------------------------------------------------------


def test_every_page_renders_for_the_owner(world, owner_m):
    order_id = first_id(world, Order)
    pages = {
        "/dashboard": "Dashboard",
        "/orders": "Orders",
        f"/orders/{order_id}": "Order D-",
        f"/orders/{order_id}/payments": None,
        "/products": "Products",
        "/products/new": "New product",
        f"/products/{first_id(world, Product)}": None,
        "/customers": "Customers",
        f"/customers/{first_id(world, Customer)}": None,
        "/staff": "Staff",
        "/staff/new": "Add a staff member",
        f"/staff/{first_id(world, StaffUser)}": "owner@example.com",
        "/settings": "Settings",
        "/settings/statuses": "Order statuses",
        "/payments": None,
        "/payments/sandbox": None,
        "/audit": "Audit log",
        "/api-keys": "API keys",
        "/webhooks": "Webhooks",
        "/webhooks/deliveries": None,
        "/profile": "Your profile",
    }
    for path, heading in pages.items():
        page = owner_m.get(path, status=200)
        h1 = page.html.find("h1")
        assert h1 is not None and h1.get_text().strip(), path
        if heading:
            assert h1.get_text().strip().startswith(heading), (path, h1.get_text())
        nav = texts(page, "nav.sidebar a")
        assert "Audit log" in " ".join(nav) and "Staff" in " ".join(nav), path
        assert page.html.find("html")["lang"] == "en"
    assert owner_m.get("/").location.endswith("/admin/dashboard")
    assert owner_m.app.get(f"/s/{world.store.slug}/admin").location.endswith("/admin/dashboard")


def test_unknown_ids_are_404_pages(owner_m):
    for path in (
        "/orders/99999999",
        "/products/99999999",
        "/customers/99999999",
        "/staff/99999999",
        "/orders/99999999/payments",
        "/payments/no-such-gateway",
    ):
        page = owner_m.get(path, status=404)
        assert page.html.find("h1").get_text().strip() == "Page not found", path


# -- products ---------------------------------------------------------------


def test_product_create_edit_delete_with_audit(world, owner_m):
    form = form_with(owner_m.get("/products/new"), "sku")
    form["sku"], form["name"], form["price"], form["stock"] = "CRUD-1", "Oolong, 50 g", "7.5", "12"
    res = form.submit(status=303)
    assert res.location.endswith("/admin/products")
    listing = res.follow()
    assert "Product “Oolong, 50 g” is created." in flash(listing)
    row = next(r for r in listing.html.select("tbody tr") if "CRUD-1" in r.get_text())
    assert "€7.50" in row.get_text() and "12" in row.get_text()
    product_id = world.scalar(select(Product.id).where(Product.sku == "CRUD-1"))
    created = last_audit(world, "product.create")
    assert created.entity_id == str(product_id) and created.actor == "owner@example.com"
    assert created.after["price_minor"] == 750 and created.before is None

    form = form_with(owner_m.get(f"/products/{product_id}"), "sku")
    assert form["price"].value == "7.50"
    form["price"], form["is_active"] = "8.00", False
    form.submit(status=303)
    product = world.rows(select(Product).where(Product.id == product_id))[0]
    assert (product.price_minor, product.is_active, product.stock) == (800, False, 12)
    updated = last_audit(world, "product.update")
    assert updated.before == {"price_minor": 750, "is_active": True}
    assert updated.after == {"price_minor": 800, "is_active": False}
    inactive = owner_m.get("/products", params={"active": "no", "q": "CRUD-1"})
    assert [t.split()[0] for t in texts(inactive, "tbody td:nth-of-type(2)")] == ["CRUD-1"]

    edit = owner_m.get(f"/products/{product_id}")
    res = form_to(edit, "/delete").submit(status=303)
    assert "Product “Oolong, 50 g” is deleted." in flash(res.follow())
    assert world.scalar(select(Product.id).where(Product.sku == "CRUD-1")) is None
    assert last_audit(world, "product.delete").before["sku"] == "CRUD-1"


def test_sku_must_be_unique_on_create_and_on_edit(world, owner_m):
    owner_m.post("/products/new", {"sku": "UNIQ-1", "name": "First", "price": "1"}, status=303)
    owner_m.post("/products/new", {"sku": "UNIQ-2", "name": "Second", "price": "1"}, status=303)
    before = world.count(Product)
    page = owner_m.post(
        "/products/new", {"sku": "UNIQ-1", "name": "Copy", "price": "2"}, status=400
    )
    assert field_error(page, "sku") == "Another product already has this SKU."
    assert page.html.find(id="f-sku")["aria-invalid"] == "true"
    assert page.html.find(id="f-name")["value"] == "Copy"  # what was typed is kept
    assert world.count(Product) == before
    second = world.scalar(select(Product.id).where(Product.sku == "UNIQ-2"))
    page = owner_m.post(
        f"/products/{second}", {"sku": "UNIQ-1", "name": "Second", "price": "1"}, status=400
    )
    assert field_error(page, "sku") == "Another product already has this SKU."
    assert world.scalar(select(Product.sku).where(Product.id == second)) == "UNIQ-2"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("sku", "", "This field is required."),
        ("sku", "bad sku!", "Use letters, digits, dots, dashes, slashes or underscores."),
        ("name", "", "This field is required."),
        ("price", "abc", "Enter an amount such as 12.50."),
        ("price", "-1", "Enter an amount such as 12.50."),
        ("price", "1.234", "At most 2 decimal places."),
        ("price", "9" * 15, "The price is too large."),
        # Exponents are no amounts (issue 18): "1e29" would be 10^31 cents.
        ("price", "1e999999", "Enter an amount such as 12.50."),
        ("price", "1e5", "Enter an amount such as 12.50."),
        ("stock", "\u0663", "Enter a whole number."),  # int() reads "٣" as 3
        ("price", "NaN", "Enter an amount such as 12.50."),
        ("stock", "-3", "Must be at least 0."),
        ("stock", "many", "Enter a whole number."),
    ],
)
def test_product_form_errors_are_shown_next_to_the_field(world, owner_m, field, value, message):
    data = {"sku": "ERR-1", "name": "Err", "price": "1.00", "stock": "1", field: value}
    before = world.count(Product)
    page = owner_m.post("/products/new", data, status=400)
    assert field_error(page, field) == message
    assert world.count(Product) == before


def test_a_product_in_orders_cannot_be_deleted(world, owner_m):
    ordered = world.scalar(
        select(OrderLine.product_id).where(OrderLine.product_id.is_not(None)).limit(1)
    )
    res = owner_m.post(f"/products/{ordered}/delete", status=303)
    assert "appears in orders and cannot be deleted" in flash(res.follow())
    assert world.scalar(select(Product.id).where(Product.id == ordered)) == ordered


def test_product_search_and_pages(world, owner_m):
    page = owner_m.get("/products", params={"q": "TEA-00"})
    assert sorted(texts(page, "tbody td:nth-of-type(2)")) == ["TEA-001", "TEA-002", "TEA-003"]
    page = owner_m.get("/products", params={"q": "teapot"})
    assert texts(page, "tbody td:nth-of-type(2)") == ["POT-001"]
    page = owner_m.get("/products", params={"q": "100%_"})  # LIKE wildcards are literal
    assert texts(page, "tbody td") == ["No products found."]


# -- customers --------------------------------------------------------------


def test_customer_list_counts_orders_and_detail_shows_the_history(world, owner_m):
    page = owner_m.get("/customers")
    counts = dict(
        world.rows(select(Order.customer_id, func.count(Order.id)).group_by(Order.customer_id))
    )
    customers = world.rows(select(Customer.id, Customer.name).order_by(Customer.name))
    shown = {
        r.select_one("td a")["href"].rsplit("/", 1)[1]: r.select("td")[3].get_text()
        for r in page.html.select("tbody tr")
    }
    for customer_id, _name in customers:
        assert shown[str(customer_id)] == str(counts.get(customer_id, 0))

    olena = world.scalar(select(Customer.id).where(Customer.name == "Olena Kovalenko"))
    history = world.rows(
        select(Order.number, Order.status, Order.total_minor)
        .where(Order.customer_id == olena)
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    assert history, "the demo data gives every customer orders"
    detail = owner_m.get(f"/customers/{olena}")
    assert detail.html.find("h1").get_text() == "Olena Kovalenko"
    assert texts(detail, "#h-history + div tbody td:first-child") == [h.number for h in history]
    spent = sum(h.total_minor for h in history if h.status not in ("cancelled", "refunded"))
    kpis = texts(detail, ".kpi .value")
    assert kpis == [str(len(history)), euro(spent)]
    assert "olena.kovalenko@example.com" in detail.text

    found = owner_m.get("/customers", params={"q": "olena.k"})
    assert texts(found, "tbody td:first-child") == ["Olena Kovalenko"]
    found = owner_m.get("/customers", params={"q": "Shevch"})
    assert texts(found, "tbody td:first-child") == ["Andriy Shevchenko"]


def test_customer_without_orders(world, owner_m):
    customer_id = world.add_customer("Quiet Person")
    detail = owner_m.get(f"/customers/{customer_id}")
    assert texts(detail, "#h-history + div tbody td") == ["No orders yet."]
    assert texts(detail, ".kpi .value") == ["0"]


# -- dashboard --------------------------------------------------------------


def expected_dashboard(world: World) -> dict:
    """The figures recomputed here from the rows (days: the zone's current offset)."""
    now = datetime.now(UTC)
    offset = now.astimezone(STORE_ZONE).utcoffset()
    today = (now + offset).date()
    orders = world.rows(
        select(
            Order.created_at, Order.payment_status, Order.currency, Order.total_minor, Order.status
        )
    )
    per_day = defaultdict(lambda: [0, 0, 0])  # orders, revenue, paid orders
    for o in orders:
        day = per_day[(o.created_at + offset).date()]
        day[0] += 1
        if o.payment_status in ("paid", "partially_refunded") and o.currency == "EUR":
            day[1] += o.total_minor
            day[2] += 1
    periods = {}
    for days in (1, 7, 30):
        window = [per_day[today - timedelta(days=i)] for i in range(days)]
        periods[days] = [sum(d[k] for d in window) for k in range(3)]
    first = today - timedelta(days=29)
    since = datetime.combine(first, time.min, tzinfo=STORE_ZONE).astimezone(UTC)
    top = Counter()
    quantity = Counter()
    names = {}
    for line in world.rows(
        select(
            OrderLine.sku,
            OrderLine.name,
            OrderLine.quantity,
            OrderLine.total_minor,
            Order.created_at,
            Order.status,
            Order.currency,
        ).join(Order)
    ):
        if (
            line.created_at.replace(tzinfo=UTC) >= since
            and line.currency == "EUR"
            and line.status not in ("cancelled", "refunded")
        ):
            top[line.sku] += line.total_minor
            quantity[line.sku] += line.quantity
            names[line.sku] = line.name
    return {
        "periods": periods,
        "status": Counter(o.status for o in orders),
        "daily": [
            (first + timedelta(days=i), per_day[first + timedelta(days=i)]) for i in range(30)
        ],
        "top": [(sku, quantity[sku], minor) for sku, minor in top.most_common(5)],
    }


def test_dashboard_figures_match_the_seeded_orders(world, owner_m):
    page = owner_m.get("/dashboard")
    want = expected_dashboard(world)
    p = want["periods"]
    assert texts(page, ".kpi .value") == [
        euro(p[1][1]),
        euro(p[7][1]),
        euro(p[30][1]),
        euro(p[30][1] // p[30][2]),
    ]
    hints = texts(page, ".kpi .hint")
    assert hints[:3] == [f"{p[d][0]} order" + ("" if p[d][0] == 1 else "s") for d in (1, 7, 30)]
    assert hints[3] == f"{p[30][2]} paid orders"

    by_status = {}
    for row in page.html.select("#h-status + table tr"):
        cells = row.select("td")
        by_status[cells[0].get_text().strip()] = int(cells[2].get_text())
    assert by_status == {code.capitalize(): n for code, n in want["status"].items()}

    top = [
        (
            r.select("td")[0].find("div").get_text(),
            r.select("td")[1].get_text(),
            r.select("td")[2].get_text(),
        )
        for r in page.html.select("#h-top + table tbody tr")
    ]
    assert top == [(sku, str(qty), euro(minor)) for sku, qty, minor in want["top"]]

    daily = [tuple(r.stripped_strings) for r in page.html.select("details tbody tr")]
    assert daily == [
        (format_date(day, locale="en"), str(d[0]), euro(d[1])) for day, d in want["daily"]
    ]
    bars = page.html.select("svg rect")
    assert len(bars) == 30
    assert bars[-1].find("title").get_text().endswith(f"({want['daily'][-1][1][0]})")


# -- audit log --------------------------------------------------------------


def test_audit_log_shows_who_when_what_before_and_after(world, owner_m):
    owner_m.post(
        "/products/new",
        {"sku": "AUD-1", "name": "Audited", "price": "3", "is_active": "1"},
        status=303,
    )
    product_id = world.scalar(select(Product.id).where(Product.sku == "AUD-1"))
    owner_m.post(
        f"/products/{product_id}",
        {"sku": "AUD-1", "name": "Audited", "price": "4", "is_active": "1"},
        status=303,
    )
    page = owner_m.get("/audit", params={"entity": "product"})
    row = page.html.select("tbody tr")[0]
    cells = row.select("td")
    assert cells[1].get_text() == "owner@example.com"
    assert cells[2].get_text() == "product.update"
    assert cells[3].get_text() == f"Products #{product_id}"
    assert dict(
        zip(texts(row, "td:nth-of-type(5) dt"), texts(row, "td:nth-of-type(5) dd"), strict=True)
    ) == {"price_minor": "300"}
    assert dict(
        zip(texts(row, "td:nth-of-type(6) dt"), texts(row, "td:nth-of-type(6) dd"), strict=True)
    ) == {"price_minor": "400"}
    assert cells[0].get_text().strip()  # when
    entry = last_audit(world, "product.update")
    assert entry.created_at > datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)

    by_actor = owner_m.get("/audit", params={"actor": "nobody@example.com"})
    assert texts(by_actor, "tbody td") == ["Nothing recorded yet."]
    mine = owner_m.get("/audit", params={"actor": "owner@example.com"})
    assert len(mine.html.select("tbody tr")) >= 2


def test_api_keys_and_webhooks_are_audited_without_their_secrets(world, owner_m):
    form = form_with(owner_m.get("/api-keys"), "name")
    form["name"] = "Reseller site"
    created = form.submit()
    secret = created.html.find(id="new-key").get_text()
    entry = last_audit(world, "apikey.create")
    assert entry.actor == "owner@example.com"
    assert entry.after["name"] == "Reseller site" and entry.after["scopes"] == "read"
    assert secret.startswith(entry.after["prefix"]) and entry.after["revoked_at"] is None
    form_to(owner_m.get("/api-keys"), f"/{entry.entity_id}/revoke").submit(status=303)
    revoked = last_audit(world, "apikey.revoke")
    assert revoked.entity_id == entry.entity_id
    assert revoked.before["revoked_at"] is None and revoked.after["revoked_at"]

    form = form_with(owner_m.get("/webhooks"), "url")
    form["url"], form["description"] = "https://reseller.example.com/hooks", "Reseller"
    page = form.submit()
    hook = last_audit(world, "webhook.create")
    assert hook.after == {
        "url": "https://reseller.example.com/hooks",
        "events": hook.after["events"],
        "description": "Reseller",
        "is_active": True,
    }
    form_to(owner_m.get("/webhooks"), f"/{hook.entity_id}/disable").submit(status=303)
    disabled = last_audit(world, "webhook.disable")
    assert (disabled.before, disabled.after) == ({"is_active": True}, {"is_active": False})
    listed = owner_m.get("/audit", params={"entity": "webhook"})
    assert f"Webhooks #{hook.entity_id}" in texts(listed, "tbody td")

    logged = " ".join(
        repr((e.before, e.after))
        for e in world.rows(select(AuditEntry).where(AuditEntry.entity.in_(["apikey", "webhook"])))
    )
    assert secret not in logged
    signing_secret = page.html.find(id="new-secret").get_text()
    assert len(signing_secret) >= 20 and signing_secret not in logged


# -- staff ------------------------------------------------------------------


def test_owner_creates_staff_with_a_password_and_they_sign_in_with_their_role(world, owner_m):
    res = owner_m.post(
        "/staff/new",
        {
            "email": "New.Hire@Example.com",
            "name": "New Hire",
            "role": "manager",
            "password": "hire-pass-1",
        },
    )
    assert "new.hire@example.com can now sign in." in res.text
    assert "Temporary password" not in res.text
    entry = last_audit(world, "staff.create")
    assert entry.after == {
        "email": "new.hire@example.com",
        "name": "New Hire",
        "role": "manager",
        "is_active": True,
        "locale": None,
    }
    assert "hash" not in str(entry.after) and "hire-pass-1" not in str(entry.after)
    hire = world.client()
    hire.login("new.hire@example.com", "hire-pass-1")
    assert hire.get("/products/new").status_int == 200  # a manager edits products
    hire.get("/staff", status=403)  # but does not manage staff
    listing = owner_m.get("/staff")
    row = next(r for r in listing.html.select("tbody tr") if "new.hire@" in r.get_text())
    assert "Manager" in row.get_text() and "Active" in row.get_text()


def test_invite_without_password_shows_a_temporary_one_once(world, owner_m):
    res = owner_m.post("/staff/new", {"email": "invitee@example.com", "role": "support"})
    temporary = res.html.select_one("code").get_text()
    assert len(temporary) >= 12
    assert temporary not in owner_m.get("/staff").text
    invitee = world.client()
    invitee.login("invitee@example.com", temporary)
    assert invitee.get("/orders").status_int == 200
    invitee.get("/products/new", status=403)


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {"email": "owner@example.com", "role": "support"},
            "email",
            "Someone with this e-mail is already on the staff.",
        ),
        (
            {"email": "OWNER@example.com", "role": "support"},
            "email",
            "Someone with this e-mail is already on the staff.",
        ),
        ({"email": "not-an-email", "role": "support"}, "email", "Enter a valid e-mail address."),
        ({"email": "x@example.com", "role": "admin"}, "role", "Choose one of the offered values."),
        (
            {"email": "y@example.com", "role": "support", "password": "short"},
            "password",
            "At least 8 characters.",
        ),
    ],
)
def test_staff_form_errors(world, owner_m, data, field, message):
    before = world.count(StaffUser)
    page = owner_m.post("/staff/new", data, status=400)
    assert field_error(page, field) == message
    assert world.count(StaffUser) == before


def test_owner_changes_role_disables_and_the_store_keeps_an_owner(world, owner_m):
    owner_m.post(
        "/staff/new",
        {"email": "temp@example.com", "role": "support", "password": "temp-pass-1"},
        status=200,
    )
    member = world.scalar(select(StaffUser.id).where(StaffUser.email == "temp@example.com"))
    temp = world.client()
    temp.login("temp@example.com", "temp-pass-1")
    res = owner_m.post(
        f"/staff/{member}", {"name": "Temp", "role": "manager", "is_active": "1"}, status=303
    )
    assert "temp@example.com is saved." in flash(res.follow())
    # A role change ends the member's sessions; signed in again, the new role applies.
    assert temp.get("/products/new", status=303).location.split("?")[0].endswith("/admin/login")
    temp.login("temp@example.com", "temp-pass-1")
    assert temp.get("/products/new").status_int == 200
    entry = last_audit(world, "staff.update")
    assert entry.before == {"name": "", "role": "support"}
    assert entry.after == {"name": "Temp", "role": "manager"}
    owner_m.post(f"/staff/{member}", {"name": "Temp", "role": "manager"}, status=303)
    assert temp.get("/dashboard", status=303).location.split("?")[0].endswith("/admin/login")
    temp.login("temp@example.com", "temp-pass-1", status=400)

    me = world.scalar(select(StaffUser.id).where(StaffUser.email == "owner@example.com"))
    page = owner_m.post(f"/staff/{me}", {"role": "manager", "is_active": "1"}, status=400)
    assert field_error(page, "role") == "The store needs at least one active owner."
    page = owner_m.post(f"/staff/{me}", {"role": "owner"}, status=400)
    assert field_error(page, "is_active") == "You cannot disable your own account."
    assert world.rows(select(StaffUser.role, StaffUser.is_active).where(StaffUser.id == me)) == [
        ("owner", True)
    ]


def test_profile_password_change_ends_other_sessions(world):
    world.client("owner")  # the owner stays untouched; this test uses its own account
    owner = world.client("owner")
    owner.post(
        "/staff/new",
        {"email": "prof@example.com", "role": "support", "password": "prof-pass-1"},
        status=200,
    )
    first, second = world.client(), world.client()
    first.login("prof@example.com", "prof-pass-1")
    second.login("prof@example.com", "prof-pass-1")
    page = first.post(
        "/profile",
        {
            "name": "Prof",
            "new_password": "prof-pass-2",
            "confirm_password": "prof-pass-2",
            "current_password": "wrong",
        },
        status=400,
    )
    assert field_error(page, "current_password") == "The current password is not correct."
    page = first.post(
        "/profile",
        {
            "new_password": "prof-pass-2",
            "confirm_password": "other",
            "current_password": "prof-pass-1",
        },
        status=400,
    )
    assert field_error(page, "confirm_password") == "The passwords do not match."
    first.post(
        "/profile",
        {
            "name": "Prof",
            "new_password": "prof-pass-2",
            "confirm_password": "prof-pass-2",
            "current_password": "prof-pass-1",
        },
        status=303,
    )
    assert first.get("/profile").status_int == 200
    second.get("/profile", status=303)  # the other session ended
    entry = last_audit(world, "staff.profile")
    assert entry.after == {"name": "Prof", "password": "changed"}
    assert not re.search(r"argon2|prof-pass", str(entry.before) + str(entry.after))


# -- statements per page -------------------------------------------------------

# Measured with the demo data (60 orders, 8 customers, 8 products); a query per
# row anywhere would blow these. The signed-in member and the store's settings
# are one statement (``load_staff_user``); the settings pages need nothing more.
QUERY_BUDGET = {
    "/dashboard": 5,  # + orders by payment status
    "/orders": 2,
    "/orders/export.csv": 3,
    "/products": 2,
    "/customers": 2,
    "/audit": 3,
    "/staff": 2,
    "/settings": 1,
    "/settings/statuses": 1,
    "/api-keys": 2,
    "/webhooks": 2,
    "/webhooks/deliveries": 2,
    "/profile": 3,  # the member's sessions and their two-factor state
    "/payments": 2,
}


def test_statements_per_page_stay_within_budget(world, owner_m):
    customer = world.scalar(select(Customer.id).where(Customer.name == "Olena Kovalenko"))
    budget = {
        **QUERY_BUDGET,
        f"/customers/{customer}": 3,
        f"/products/{first_id(world, Product)}": 3,  # + its stock movements
    }
    spent = {}
    for path in budget:
        owner_m.get(path)  # warm: the engine exists, the tenant is cached
        with world.queries() as seen:
            owner_m.get(path)
        spent[path] = len(seen)
    assert {p: n for p, n in spent.items() if n > budget[p]} == {}


def test_a_page_without_messages_leaves_the_session_cookie_alone(world):
    admin = world.client("owner")
    first = admin.get("/orders")
    assert "Set-Cookie" not in first.headers  # nothing in the session changed
    form = form_with(admin.get("/products/new"), "sku")
    form["sku"], form["name"], form["price"] = "FLASH-1", "Flash", "1"
    shown = form.submit(status=303).follow()
    assert "Product “Flash” is created." in flash(shown)
    assert "Set-Cookie" in shown.headers  # the message was taken out of the session
    again = admin.get("/orders")
    assert not flash(again) and "Set-Cookie" not in again.headers


def test_the_staff_list_shows_the_signed_in_members_own_last_sign_in(world):
    """The signed-in member is loaded with only what every page reads; the staff
    list's own query fills in the rest of that same object (no extra statement)."""
    admin = world.client("manager")
    admin.get("/staff", status=403)  # a manager may not manage staff: the owner's page
    owner = world.client("owner")
    owner.get("/staff")
    with world.queries() as seen:
        page = owner.get("/staff")
    assert len(seen) <= QUERY_BUDGET["/staff"]
    signed_in = world.scalar(
        select(StaffUser.last_login_at).where(StaffUser.email == ACCOUNTS["owner"][0])
    )
    assert signed_in is not None
    rows = {
        row.find_all("td")[1].get_text(): row.find_all("td")[4].get_text()
        for row in page.html.select("tbody tr")
    }
    assert rows[ACCOUNTS["owner"][0]] != "—"
    assert rows[ACCOUNTS["manager"][0]] != "—"
