"""Store settings (name, currency, language, timezone, order numbers) and custom statuses.

The module has its own store: these tests change what every page shows.
"""

from __future__ import annotations

import re
import tracemalloc

import pytest
from sqlalchemy import select

from backoffice.models import AuditEntry, StoreSetting
from backoffice.store.forms import number_format_error
from tests.backoffice.admin_world import World

KEY_RE = re.compile(r"bo_live_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")
NUMBER_FORMAT_ERROR = "Use {seq} exactly once, e.g. A-{seq:06d}."
TOO_LONG = "Order numbers must stay within 32 characters."


@pytest.fixture(scope="module")
def world(mysql_control, mysql_settings):
    world = World(mysql_control, mysql_settings, demo_orders=20)
    yield world
    world.dispose()


@pytest.fixture(scope="module")
def owner(world):
    return world.client("owner")


def settings_rows(world: World) -> dict:
    return dict(world.rows(select(StoreSetting.key, StoreSetting.value)))


def alerts(page) -> list[str]:
    return [" ".join(el.get_text().split()) for el in page.html.select(".flash")]


def field_error(page, name: str) -> str:
    el = page.html.find(id=f"{name}-error")
    return el.get_text() if el else ""


LOGO_ERROR = "Use an address that starts with https:// (or a path on this site, like /logo.png)."
VALID = {
    "name": "Demo Tea Shop",
    "currency": "EUR",
    "default_locale": "en",
    "timezone": "Europe/Kyiv",
    "order_number_format": "D-{seq:05d}",
}


# -- settings ----------------------------------------------------------------


def test_settings_page_shows_the_current_values(owner):
    page = owner.get("/settings")
    assert page.html.find(id="f-name")["value"] == "Demo Tea Shop"
    assert page.html.find(id="f-order_number_format")["value"] == "D-{seq:05d}"
    for name, value in (("currency", "EUR"), ("timezone", "Europe/Kyiv"), ("default_locale", "en")):
        selected = page.html.find(id=f"f-{name}").find("option", selected=True)
        assert (selected.get("value") or selected.get_text()) == value


@pytest.mark.parametrize(
    "fmt, message",
    [
        ("", "This field is required."),
        ("A-{seq}-{seq}", NUMBER_FORMAT_ERROR),
        ("ORDER", NUMBER_FORMAT_ERROR),
        ("{order}", NUMBER_FORMAT_ERROR),
        ("{}", NUMBER_FORMAT_ERROR),
        ("{0}", NUMBER_FORMAT_ERROR),
        ("{seq", NUMBER_FORMAT_ERROR),
        ("{seq.real}", NUMBER_FORMAT_ERROR),
        ("{seq[0]}", NUMBER_FORMAT_ERROR),
        ("{seq:s}", NUMBER_FORMAT_ERROR),
        ("{seq:%}x{seq}", NUMBER_FORMAT_ERROR),
        ("X" * 30 + "{seq}", TOO_LONG),
        ("{seq:>40}", TOO_LONG),
        # a width like this made the check itself build a 1 GB string
        ("{seq:999999999d}", TOO_LONG),
        ("{seq:0999999999999999999999}", TOO_LONG),
        # a nested field passed the width check and built ~1 GB when used
        ("{seq:{seq}}", NUMBER_FORMAT_ERROR),
        ("{seq:{seq}d}", NUMBER_FORMAT_ERROR),
        ("{seq:.5}", NUMBER_FORMAT_ERROR),
        ("{seq!r}", NUMBER_FORMAT_ERROR),
        ("x" * 65, "At most 64 characters."),
    ],
)
def test_order_number_format_is_validated(world, owner, fmt, message):
    before = settings_rows(world)
    page = owner.post("/settings", {**VALID, "order_number_format": fmt}, status=400)
    assert field_error(page, "order_number_format") == message
    assert page.html.find(id="f-order_number_format")["aria-invalid"] == "true"
    assert settings_rows(world) == before


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "This field is required."),
        ("name", "n" * 201, "At most 200 characters."),
        ("currency", "XXXX", "Choose one of the offered values."),
        ("timezone", "Mars/Olympus", "Choose one of the offered values."),
        ("default_locale", "de", "Choose one of the offered values."),
        ("logo_url", "http://cdn.example.com/logo.png", LOGO_ERROR),
        ("logo_url", "//cdn.example.com/logo.png", LOGO_ERROR),
        ("logo_url", "javascript:alert(1)", LOGO_ERROR),
        ("logo_url", "https://cdn.example.com/" + "l" * 480, "At most 500 characters."),
    ],
)
def test_settings_errors_are_shown_and_nothing_is_saved(world, owner, field, value, message):
    before = settings_rows(world)
    page = owner.post("/settings", {**VALID, field: value}, status=400)
    assert field_error(page, field) == message
    assert settings_rows(world) == before


def test_the_logo_is_saved_audited_and_shown_on_the_checkout(world, owner):
    checkout = f"/s/{world.store.slug}/checkout"
    assert owner.app.get(checkout).html.select_one("img.logo") is None
    logo = "https://cdn.example.com/tea.png?v=2&size=large"
    owner.post("/settings", {**VALID, "logo_url": logo}, status=303)
    try:
        assert owner.get("/settings").html.find(id="f-logo_url")["value"] == logo
        entry = world.rows(
            select(AuditEntry)
            .where(AuditEntry.action == "settings.update")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )[0]
        assert (entry.before, entry.after) == ({"logo_url": ""}, {"logo_url": logo})
        img = owner.app.get(checkout).html.select_one("img.logo")
        assert (img["src"], img["alt"]) == (logo, "Demo Tea Shop")
    finally:
        owner.post("/settings", {**VALID, "logo_url": ""}, status=303)
    assert owner.app.get(checkout).html.select_one("img.logo") is None


def test_saved_settings_apply_to_pages_orders_and_the_audit_log(world, owner):
    changes = {
        "name": "Tea <&> Co",
        "currency": "USD",
        "timezone": "Asia/Tokyo",
        "order_number_format": "TC-{seq:04d}",
    }
    res = owner.post("/settings", {**VALID, **changes}, status=303)
    assert "The settings are saved." in alerts(res.follow())
    try:
        assert {k: settings_rows(world)[k] for k in changes} == changes
        entry = world.rows(
            select(AuditEntry)
            .where(AuditEntry.action == "settings.update")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )[0]
        assert entry.before == {k: VALID[k] for k in changes} and entry.after == changes
        products = owner.get("/products")
        assert "Tea &lt;&amp;&gt; Co" in products.text  # the sidebar's store name
        assert "$12.90" in products.text  # TEA-001 in the new currency
        # New orders are numbered in the new format (the store API numbers them).
        keys = owner.post("/api-keys", {"name": "site", "scopes": ["read", "write"]})
        [key] = KEY_RE.findall(keys.text)
        order = owner.app.post_json(
            f"/s/{world.store.slug}/api/v1/orders",
            {
                "lines": [{"sku": "TEA-001", "quantity": 1}],
                "customer": {"email": "ann@example.com", "name": "Ann"},
            },
            headers={"Authorization": f"Bearer {key}"},
            status=201,
        ).json
        assert order["number"] == f"TC-{order['id']:04d}"
        assert order["currency"] == "USD"
    finally:
        owner.post("/settings", VALID, status=303)
    assert "€12.90" in owner.get("/products").text


def test_saving_unchanged_settings_records_nothing(world, owner):
    entries = world.count(AuditEntry)
    owner.post("/settings", VALID, status=303)
    assert world.count(AuditEntry) == entries


# -- custom order statuses ------------------------------------------------------


def statuses_form(owner) -> list[tuple[str, str]]:
    """The statuses page's fields as the browser would send them."""
    page = owner.get("/settings/statuses")
    form = next(f for f in page.forms.values() if "add.code" in f.fields)
    return [(k, v) for k, v in form.submit_fields() if not k.startswith("add.")]


def save_statuses(owner, fields, status=303):
    return owner.app.post(owner.url("/settings/statuses"), fields, status=status)


def replace(fields, name, values) -> list:
    return [(k, v) for k, v in fields if k != name] + [(name, v) for v in values]


def test_custom_status_in_the_flow(world, owner):
    fields = statuses_form(owner)
    fields = replace(fields, "confirmed.next", ["packed", "shipped", "cancelled"])
    fields += [
        ("add.code", "packed"),
        ("add.name", "Packed"),
        ("add.colour", "#aa5500"),
        ("add.position", "2"),
        ("add.next", "shipped"),
    ]
    res = save_statuses(owner, fields)
    assert "The order statuses are saved." in alerts(res.follow())
    entry = world.rows(
        select(AuditEntry)
        .where(AuditEntry.action == "settings.statuses")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )[0]
    assert "packed" not in [s["code"] for s in entry.before["statuses"]]
    assert "packed" in [s["code"] for s in entry.after["statuses"]]

    order_id = world.add_order(status="confirmed")
    page = owner.get(f"/orders/{order_id}")
    options = [o["value"] for o in page.html.select("form[action$='/status'] option")]
    assert options == ["packed", "shipped", "cancelled"]
    owner.post(f"/orders/{order_id}/status", {"status": "packed"}, status=303)
    assert world.order_status(order_id) == "packed"
    res = owner.post(f"/orders/{order_id}/status", {"status": "delivered"}, status=303)
    assert "An order in status “Packed” cannot move to “Delivered”." in alerts(res.follow())
    listing = owner.get("/orders", params={"status": "packed"})
    badge = listing.html.select_one("tbody .badge.status")
    assert badge.get_text() == "Packed" and "#aa5500" in badge["style"]
    filter_options = [o["value"] for o in listing.html.select("#f-status option")]
    assert filter_options.index("packed") == filter_options.index("confirmed") + 1  # position 2

    # In use: it cannot be removed.
    page = save_statuses(owner, statuses_form(owner) + [("remove.packed", "1")], status=400)
    assert "Orders with this status: 1." in page.html.select_one(".flash.error").get_text()
    owner.post(f"/orders/{order_id}/status", {"status": "shipped"}, status=303)
    # Unused now: removed, and no other status leads to it any more.
    save_statuses(owner, statuses_form(owner) + [("remove.packed", "1")])
    page = owner.get("/settings/statuses")
    assert page.html.find(id="n-packed") is None
    assert "packed" not in [i["value"] for i in page.html.select("input[name='confirmed.next']")]
    confirmed = world.add_order(status="confirmed")
    options = [
        o["value"]
        for o in owner.get(f"/orders/{confirmed}").html.select("form[action$='/status'] option")
    ]
    assert sorted(options) == ["cancelled", "shipped"]


def test_renamed_default_status_shows_its_new_name(world, owner):
    fields = replace(statuses_form(owner), "confirmed.name", ["Approved"])
    save_statuses(owner, fields)
    try:
        order_id = world.add_order(status="confirmed")
        page = owner.get(f"/orders/{order_id}")
        assert page.html.select_one("h1 .badge.status").get_text() == "Approved"
    finally:
        save_statuses(owner, replace(statuses_form(owner), "confirmed.name", ["Confirmed"]))


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            [("add.code", "Bad Code"), ("add.name", "X"), ("add.colour", "#000000")],
            "Codes use lower-case letters, digits and _.",
        ),
        (
            [("add.code", "confirmed"), ("add.name", "X"), ("add.colour", "#000000")],
            "This code is already used.",
        ),
        (
            [("add.code", "fresh"), ("add.name", ""), ("add.colour", "#000000")],
            "A name needs 1 to 40 characters.",
        ),
        (
            [("add.code", "fresh"), ("add.name", "n" * 41), ("add.colour", "#000000")],
            "A name needs 1 to 40 characters.",
        ),
        (
            [("add.code", "fresh"), ("add.name", "Fresh"), ("add.colour", "red")],
            "Choose a colour like #1c7ed6.",
        ),
        (
            [("add.code", "fresh"), ("add.name", "Fresh"), ("add.colour", '#000000" onx="')],
            "Choose a colour like #1c7ed6.",
        ),
        (
            [
                ("add.code", "fresh"),
                ("add.name", "Fresh"),
                ("add.colour", "#000000"),
                ("add.position", "9" * 5000),
            ],
            "Enter a whole number.",
        ),
        (
            [
                ("add.code", "fresh"),
                ("add.name", "Fresh"),
                ("add.colour", "#000000"),
                ("add.position", "²"),
            ],
            "Enter a whole number.",
        ),
        ([("remove.new", "1")], "New orders start in “new”: it cannot be removed."),
    ],
)
def test_status_table_errors(world, owner, extra, message):
    before = settings_rows(world).get("order_statuses")
    page = save_statuses(owner, statuses_form(owner) + extra, status=400)
    assert message in page.html.select_one(".flash.error").get_text()
    assert settings_rows(world).get("order_statuses") == before


def test_a_huge_width_is_refused_without_building_the_number():
    tracemalloc.start()
    try:
        assert number_format_error("{seq:999999999d}") is not None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # formatting it first took a gigabyte
