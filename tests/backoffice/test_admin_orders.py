"""The order pages: filters, sorting, pages, bulk changes, CSV, the state machine, notes.

The module's store has no demo data: five known orders in March 2026 (store
timezone Asia/Tokyo, UTC+9 without summer time, so local and UTC days differ
for some of them) and 120 orders on 2025-06-01/02 for paging and query counts.
Tests that change orders make their own, dated today, outside those ranges.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select, update
from webtest import TestResponse

from backoffice.models import AuditEntry, OrderEvent, OrderLine, Payment, StoreSetting
from tests.backoffice.admin_world import World

MARCH = {"from": "2026-03-01", "to": "2026-04-30"}
# number, status, payment, name, email, total, local time in Tokyo
KNOWN = [
    ("A-0001", "new", "unpaid", "Alice Archer", "alice@shop.test", 1500, "2026-03-01 10:00"),
    ("A-0002", "confirmed", "unpaid", "Bob Baker", "bob@mail.test", 2500, "2026-03-02 23:30"),
    ("A-0003", "confirmed", "paid", "Carol Carter", "carol@shop.test", 500, "2026-03-03 08:00"),
    ("A-0004", "shipped", "paid", "Dan Alison", "dan@mail.test", 9900, "2026-03-10 12:00"),
    ("A-0005", "cancelled", "refunded", "Eve O'Neil", "eve@shop.test", 100, "2026-04-01 09:15"),
]
PAGING_DAY_1, PAGING_DAY_2 = "2025-06-01", "2025-06-02"  # 10 and 110 orders


def tokyo_to_utc(text: str) -> datetime:
    return datetime.fromisoformat(text) - timedelta(hours=9)


@pytest.fixture(scope="module")
def world(mysql_control, mysql_settings):
    world = World(mysql_control, mysql_settings, demo_orders=0)
    with world.engine.begin() as conn:
        conn.execute(
            insert(StoreSetting),
            [{"key": "timezone", "value": "Asia/Tokyo"}, {"key": "currency", "value": "EUR"}],
        )
    for number, status, payment, name, email, total, local in KNOWN:
        world.add_order(
            number=number,
            status=status,
            payment_status=payment,
            name=name,
            email=email,
            total=total,
            created_at=tokyo_to_utc(local),
        )
    for i in range(120):
        day = PAGING_DAY_1 if i < 10 else PAGING_DAY_2
        world.add_order(
            number=f"P-{i:04d}",
            name=f"Pager {i:04d}",
            total=100 + i,
            created_at=tokyo_to_utc(f"{day} 12:00") + timedelta(seconds=i),
        )
    yield world
    world.dispose()


@pytest.fixture(scope="module")
def owner(world):
    return world.client("owner")


@pytest.fixture(scope="module")
def manager(world):
    return world.client("manager")


@pytest.fixture(scope="module")
def support(world):
    return world.client("support")


def numbers(page: TestResponse) -> list[str]:
    return [a.get_text() for a in page.html.select("tbody td a strong")]


def alerts(page: TestResponse) -> list[str]:
    return [" ".join(el.get_text().split()) for el in page.html.select(".flash")]


def march(owner, **params) -> list[str]:
    return numbers(owner.get("/orders", params={**MARCH, **params}))


# -- filters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["A-0005", "A-0004", "A-0003", "A-0002", "A-0001"]),
        ({"status": "confirmed"}, ["A-0003", "A-0002"]),
        ({"status": "delivered"}, []),
        ({"payment": "paid"}, ["A-0004", "A-0003"]),
        ({"payment": "refunded"}, ["A-0005"]),
        ({"status": "shipped", "payment": "paid", "q": "dan"}, ["A-0004"]),
        ({"q": "A-000"}, ["A-0005", "A-0004", "A-0003", "A-0002", "A-0001"]),
        ({"q": "A-0003"}, ["A-0003"]),
        ({"q": "ali"}, ["A-0004", "A-0001"]),  # name contains, e-mail starts with
        ({"q": "ALISON"}, ["A-0004"]),
        ({"q": "bob@mail.test"}, ["A-0002"]),
        ({"q": "Bob@Mail"}, ["A-0002"]),
        ({"q": "o'neil"}, ["A-0005"]),
        ({"q": "%"}, []),  # LIKE wildcards are searched for, not expanded
        ({"q": "_"}, []),
        ({"q": "  carol  "}, ["A-0003"]),
    ],
)
def test_filters(owner, params, expected):
    assert march(owner, **params) == expected


@pytest.mark.parametrize(
    "start, end, expected",
    [
        # local days of the store (Tokyo): A-0003 is 2026-03-02 23:00 in UTC
        ("2026-03-03", "2026-03-03", ["A-0003"]),
        ("2026-03-01", "2026-03-02", ["A-0002", "A-0001"]),
        ("2026-03-02", "", ["A-0005", "A-0004", "A-0003", "A-0002"]),
        ("", "2026-03-01", ["A-0001"]),
    ],
)
def test_date_range_is_in_the_store_timezone(owner, start, end, expected):
    params = {k: v for k, v in {"from": start, "to": end}.items() if v}
    page = owner.get("/orders", params=params)
    assert [n for n in numbers(page) if n.startswith("A-")] == expected
    assert page.html.find(id="f-from")["value"] == start
    assert page.html.find(id="f-to")["value"] == end


def test_filtered_empty_list_says_so(owner):
    page = owner.get("/orders", params={**MARCH, "q": "nobody at all"})
    assert page.html.select_one("tbody td.empty").get_text() == "No orders match these filters."
    assert page.html.find(id="f-q")["value"] == "nobody at all"


# -- sorting ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("number", ["A-0001", "A-0002", "A-0003", "A-0004", "A-0005"]),
        ("-number", ["A-0005", "A-0004", "A-0003", "A-0002", "A-0001"]),
        ("created", ["A-0001", "A-0002", "A-0003", "A-0004", "A-0005"]),
        ("total", ["A-0005", "A-0003", "A-0001", "A-0002", "A-0004"]),
        ("-total", ["A-0004", "A-0002", "A-0001", "A-0003", "A-0005"]),
        ("customer", ["A-0001", "A-0002", "A-0003", "A-0004", "A-0005"]),
        ("-customer", ["A-0005", "A-0004", "A-0003", "A-0002", "A-0001"]),
        ("status", ["A-0005", "A-0002", "A-0003", "A-0001", "A-0004"]),  # by code
    ],
)
def test_sorting(owner, sort, expected):
    assert march(owner, sort=sort) == expected


def test_sort_headers_show_the_direction_and_toggle_it(owner):
    page = owner.get("/orders", params={**MARCH, "sort": "total"})
    header = next(th for th in page.html.select("thead th") if "Total" in th.get_text())
    assert header["aria-sort"] == "ascending"
    flipped = owner.app.get(header.find("a")["href"])
    assert numbers(flipped)[:5] == ["A-0004", "A-0002", "A-0001", "A-0003", "A-0005"]
    assert "from=2026-03-01" in header.find("a")["href"]  # filters are kept
    header = next(th for th in flipped.html.select("thead th") if "Total" in th.get_text())
    assert header["aria-sort"] == "descending"


# -- pages ------------------------------------------------------------------


def test_pages_of_fifty_with_next_and_previous_links(owner):
    params = {"from": PAGING_DAY_1, "to": PAGING_DAY_2, "sort": "number"}
    first = owner.get("/orders", params=params)
    assert numbers(first) == [f"P-{i:04d}" for i in range(50)]
    assert first.html.select_one("a[rel=prev]") is None
    second = owner.app.get(first.html.select_one("a[rel=next]")["href"])
    assert numbers(second) == [f"P-{i:04d}" for i in range(50, 100)]
    third = owner.app.get(second.html.select_one("a[rel=next]")["href"])
    assert numbers(third) == [f"P-{i:04d}" for i in range(100, 120)]
    assert third.html.select_one("a[rel=next]") is None
    assert "Page 3" in third.html.select_one("nav.pager").get_text()
    back = owner.app.get(third.html.select_one("a[rel=prev]")["href"])
    assert numbers(back) == numbers(second)
    beyond = owner.get("/orders", params={**params, "page": "9"})
    assert numbers(beyond) == [] and beyond.status_int == 200


# -- bad filter values: a clear 400, never a 500 ------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2026-02-30"}, "“2026-02-30” is not a date (expected YYYY-MM-DD)."),
        ({"to": "yesterday"}, "“yesterday” is not a date (expected YYYY-MM-DD)."),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "The start date is after the end date."),
        ({"status": "bogus"}, "Unknown order status “bogus”."),
        ({"status": "<script>x</script>"}, "Unknown order status “<script>x</script>”."),
        ({"payment": "free"}, "Unknown payment status “free”."),
        ({"sort": "password"}, "Orders cannot be sorted by “password”."),
        ({"page": "0"}, "The page number must be a whole number from 1 to 100000."),
        ({"page": "-1"}, "The page number must be a whole number from 1 to 100000."),
        ({"page": "abc"}, "The page number must be a whole number from 1 to 100000."),
        ({"page": "100001"}, "The page number must be a whole number from 1 to 100000."),
        ({"page": "9" * 5000}, "The page number must be a whole number from 1 to 100000."),
        ({"page": "²"}, "The page number must be a whole number from 1 to 100000."),
        ({"page": "1.5"}, "The page number must be a whole number from 1 to 100000."),
        ({"q": "x" * 101}, "The search text is too long (at most 100 characters)."),
    ],
)
def test_bad_filter_values_are_a_clear_400(owner, params, message):
    page = owner.get("/orders", params=params, status=400)
    assert message in alerts(page)
    assert page.html.find("h1").get_text() == "Orders"  # the page, with its filter form
    assert "<script>x</script>" not in page.text
    export = owner.get("/orders/export.csv", params=params, status=400)
    assert message in export.html.get_text()


# -- CSV export ---------------------------------------------------------------


def read_csv(res: TestResponse) -> list[list[str]]:
    assert res.content_type == "text/csv"
    assert res.headers["Content-Disposition"] == 'attachment; filename="orders.csv"'
    assert res.body.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
    return list(csv.reader(io.StringIO(res.body.decode("utf-8-sig"))))


def test_csv_export_has_exactly_the_filtered_orders(world, owner):
    rows = read_csv(
        owner.get("/orders/export.csv", params={**MARCH, "payment": "paid", "sort": "number"})
    )
    assert rows == [
        ["Number", "Date", "Status", "Payment", "Customer", "E-mail", "Total", "Currency"],
        [
            "A-0003",
            "2026-03-03 08:00",
            "Confirmed",
            "Paid",
            "Carol Carter",
            "carol@shop.test",
            "5.00",
            "EUR",
        ],
        [
            "A-0004",
            "2026-03-10 12:00",
            "Shipped",
            "Paid",
            "Dan Alison",
            "dan@mail.test",
            "99.00",
            "EUR",
        ],
    ]
    everything = read_csv(owner.get("/orders/export.csv", params=MARCH))
    assert [r[0] for r in everything[1:]] == march(owner)
    paging = read_csv(
        owner.get("/orders/export.csv", params={"from": PAGING_DAY_1, "to": PAGING_DAY_2})
    )
    assert len(paging) == 121  # every row, not one page
    entry = world.rows(
        select(AuditEntry)
        .where(AuditEntry.action == "order.export")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )[0]
    assert entry.actor == "owner@example.com"
    assert entry.after == {"filter": {"from": PAGING_DAY_1, "to": PAGING_DAY_2}}


def test_csv_cells_that_spreadsheets_would_run_are_defused(world, owner):
    world.add_order(
        number="F-1",
        name='=HYPERLINK("http://evil")',
        email="+1@x.test",
        created_at=tokyo_to_utc("2024-01-05 12:00"),
    )
    rows = read_csv(
        owner.get("/orders/export.csv", params={"from": "2024-01-05", "to": "2024-01-05"})
    )
    assert rows[1][4] == '\'=HYPERLINK("http://evil")'
    assert rows[1][5] == "'+1@x.test"


# -- status changes along the state machine --------------------------------------

DEFAULT_NEXT = {
    "new": ["confirmed", "cancelled"],
    "confirmed": ["shipped", "cancelled"],
    "shipped": ["delivered"],
    "delivered": [],
    "cancelled": [],
}


def status_options(page) -> list[str]:
    select_ = page.html.select_one("form[action$='/status'] select")
    return [o["value"] for o in select_.find_all("option")] if select_ else []


def test_detail_offers_exactly_the_next_statuses(world, owner):
    for status, allowed in DEFAULT_NEXT.items():
        order_id = world.add_order(status=status)
        assert status_options(owner.get(f"/orders/{order_id}")) == allowed, status


def test_status_moves_along_the_flow_with_timeline_and_audit(world, manager):
    order_id = world.add_order(status="new")
    for target in ("confirmed", "shipped", "delivered"):
        res = manager.post(
            f"/orders/{order_id}/status", {"status": target, "message": f"to {target}"}, status=303
        )
        assert res.location.endswith(f"/admin/orders/{order_id}")
        assert world.order_status(order_id) == target
    page = manager.get(f"/orders/{order_id}")
    assert status_options(page) == []  # delivered is final (refunds are money, not moves)
    moves = [
        (e.from_status, e.to_status, e.actor, e.message)
        for e in world.events(order_id)
        if e.kind == "status_changed"
    ]
    assert moves == [
        (a, b, "manager@example.com", f"to {b}")
        for a, b in [
            ("new", "confirmed"),
            ("confirmed", "shipped"),
            ("shipped", "delivered"),
        ]
    ]
    audit = world.rows(
        select(AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.action == "order.status", AuditEntry.entity_id == str(order_id))
        .order_by(AuditEntry.id)
    )
    assert audit[0] == ({"status": "new"}, {"status": "confirmed"})
    assert len(audit) == 3


@pytest.mark.parametrize(
    "current, target, message",
    [
        ("new", "shipped", "An order in status “New” cannot move to “Shipped”."),
        ("new", "new", "An order in status “New” cannot move to “New”."),
        ("cancelled", "new", "An order in status “Cancelled” cannot move to “New”."),
        ("delivered", "paid", "An order in status “Delivered” cannot move to “paid”."),
        ("confirmed", "new", "An order in status “Confirmed” cannot move to “New”."),
        ("new", "bogus", "An order in status “New” cannot move to “bogus”."),
        ("new", "", "An order in status “New” cannot move to “”."),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(
    world, owner, current, target, message
):
    order_id = world.add_order(status=current)
    events = len(world.events(order_id))
    res = owner.post(f"/orders/{order_id}/status", {"status": target}, status=303)
    assert message in alerts(res.follow())
    assert world.order_status(order_id) == current
    assert len(world.events(order_id)) == events
    assert (
        world.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "order.status", AuditEntry.entity_id == str(order_id)
            )
        )
        is None
    )


def test_timeline_says_who_when_and_what_changed(world, manager):
    order_id = world.add_order(status="new")
    manager.post(
        f"/orders/{order_id}/status",
        {"status": "confirmed", "message": "Called the customer"},
        status=303,
    )
    page = manager.get(f"/orders/{order_id}")
    items = page.html.select("#timeline ol.timeline li")
    newest, oldest = items[0], items[-1]
    when = newest.select_one(".when").get_text()
    event = world.events(order_id)[-1]
    local = event.created_at + timedelta(hours=9)
    assert local.strftime("%b") in when and str(local.year) in when
    assert when.endswith("· manager@example.com")
    assert "Status changed from “New” to “Confirmed”" in newest.get_text()
    assert newest.select_one(".text").get_text() == "Called the customer"
    assert "Order placed" in oldest.get_text() and "checkout" in oldest.get_text()


# -- bulk status change -----------------------------------------------------------


def test_bulk_change_moves_what_may_move_and_names_the_rest(world, manager):
    movable = [world.add_order(status="new"), world.add_order(status="new")]
    stuck = world.add_order(status="shipped", number="STUCK-1")
    back = "status=new&sort=number"
    res = manager.post(
        "/orders/bulk",
        {"order": [*movable, stuck], "status": "confirmed", "back": back},
        status=303,
    )
    assert res.location.endswith("/admin/orders?" + back)
    messages = alerts(res.follow())
    assert "Orders moved to “Confirmed”: 2." in messages
    assert "Orders that cannot move to “Confirmed” from their status (1): STUCK-1" in messages
    assert [world.order_status(i) for i in movable] == ["confirmed", "confirmed"]
    assert world.order_status(stuck) == "shipped"
    event = world.events(movable[0])[-1]
    assert (event.kind, event.actor, event.message) == (
        "status_changed",
        "manager@example.com",
        "bulk",
    )
    page = manager.get(f"/orders/{movable[0]}")
    assert "(bulk change)" in page.html.select_one("#timeline li").get_text()


def test_bulk_form_on_the_list_works_without_javascript(world, manager):
    order_id = world.add_order(status="new", number="BULK-FORM-1")
    page = manager.get("/orders", params={"q": "BULK-FORM-1"})
    form = next(f for f in page.forms.values() if (f.action or "").endswith("/orders/bulk"))
    form.get("order", index=0).checked = True
    form["status"] = "cancelled"
    res = form.submit(status=303)
    assert "q=BULK-FORM-1" in res.location
    assert world.order_status(order_id) == "cancelled"


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"status": "confirmed"}, 303, "Choose orders and a new status."),
        ({"order": ["1"], "status": "bogus"}, 303, "Choose orders and a new status."),
        ({"order": ["abc"], "status": "confirmed"}, 400, "The selection is not valid."),
        (
            {"order": [str(i) for i in range(1, 502)], "status": "confirmed"},
            400,
            "At most 500 orders at once.",
        ),
    ],
)
def test_bulk_refuses_bad_selections(world, owner, data, status, message):
    before = world.checksums()
    res = owner.post("/orders/bulk", data, status=status)
    text = " ".join(alerts(res.follow())) if status == 303 else res.text
    assert message in text
    assert world.checksums() == before


def test_bulk_back_link_cannot_leave_the_list(owner):
    res = owner.post("/orders/bulk", {"status": "confirmed", "back": "//evil.test/x"}, status=303)
    assert res.location.endswith("/admin/orders")


# -- internal notes ----------------------------------------------------------------


def test_staff_add_notes_that_show_on_the_timeline(world, support):
    order_id = world.add_order()
    res = support.post(
        f"/orders/{order_id}/notes", {"text": "Wants gift wrapping\nand a card"}, status=303
    )
    assert res.location.endswith(f"/admin/orders/{order_id}#timeline")
    page = res.follow()
    assert "The note is added." in alerts(page)
    note = page.html.select_one("#timeline li.note")
    assert note.select_one(".text").get_text() == "Wants gift wrapping\nand a card"
    assert note.select_one(".when").get_text().endswith("· support@example.com")
    event = world.events(order_id)[-1]
    assert (event.kind, event.actor) == ("note", "support@example.com")
    assert world.scalar(
        select(AuditEntry.after).where(
            AuditEntry.action == "order.note", AuditEntry.entity_id == str(order_id)
        )
    ) == {"note": "Wants gift wrapping\nand a card"}


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_empty_or_huge_notes_are_refused(world, owner, text):
    order_id = world.add_order()
    res = owner.post(f"/orders/{order_id}/notes", {"text": text}, status=303)
    assert "A note needs between 1 and 5000 characters." in alerts(res.follow())
    assert [e.kind for e in world.events(order_id)] == ["created"]


# -- statements per page -------------------------------------------------------------


def statements(world, client, path, **params) -> int:
    client.get(path, params=params)  # warm: engine and tenant lookups
    with world.queries() as seen:
        client.get(path, params=params)
    return len(seen)


def test_order_list_costs_the_same_queries_for_10_and_50_rows(world, owner):
    ten = statements(world, owner, "/orders", **{"from": PAGING_DAY_1, "to": PAGING_DAY_1})
    fifty = statements(world, owner, "/orders", **{"from": PAGING_DAY_2, "to": PAGING_DAY_2})
    assert (
        len(numbers(owner.get("/orders", params={"from": PAGING_DAY_1, "to": PAGING_DAY_1}))) == 10
    )
    assert ten == fifty
    assert fifty <= 2, fifty  # staff user with the settings, the page; nothing per row


@pytest.mark.speedup("order_detail_json")
def test_order_detail_costs_the_same_queries_for_few_and_many_lines(world, owner):
    small = world.add_order(lines=1)
    big = world.add_order(lines=30)
    with world.engine.begin() as conn:
        conn.execute(
            insert(OrderEvent),
            [
                {"order_id": big, "kind": "note", "actor": "x", "message": f"n{i}"}
                for i in range(30)
            ],
        )
    assert (
        statements(world, owner, f"/orders/{small}")
        == statements(world, owner, f"/orders/{big}")
        <= 2
    )  # user + settings; the order with its
    # customer, lines, events and payments (JSON arrays in its row)


@pytest.mark.speedup("order_detail_json")
def test_an_order_whose_timeline_the_server_cuts_short_is_read_whole(world, owner):
    """MariaDB cuts a GROUP_CONCAT at group_concat_max_len (1 MB by default):
    such a child list is read again on its own, whole and in order."""
    order_id = world.add_order(lines=3)
    notes = [f"note {i:03d} " + "z" * 5000 for i in range(260)]  # ~1.3 MB of JSON
    with world.engine.begin() as conn:
        limit = conn.exec_driver_sql("SELECT @@group_concat_max_len").scalar()
        assert sum(map(len, notes)) > limit
        conn.execute(
            insert(OrderEvent),
            [
                {"order_id": order_id, "kind": "note", "actor": "long@example.com", "message": text}
                for text in notes
            ],
        )
    owner.get(f"/orders/{order_id}")
    with world.queries() as seen:
        page = owner.get(f"/orders/{order_id}")
    assert len(seen) == 3, seen  # user + settings, the order, its events again
    shown = [li.select_one(".text").get_text()[:8] for li in page.html.select("#timeline li.note")]
    assert shown == [f"note {i:03d}" for i in reversed(range(260))]  # newest first
    lines = page.html.select('section[aria-labelledby="h-lines"] tbody tr')
    assert len(lines) == 3 and all("SKU-" in line.get_text() for line in lines)


def test_order_detail_reads_what_it_shows_not_raw_payloads(world, owner):
    """A provider's raw notification and an event's data can be kilobytes: the
    page shows neither, so it does not fetch them, and still shows the rest."""
    order_id = world.add_order(lines=2)
    with world.engine.begin() as conn:
        conn.execute(
            insert(Payment).values(
                order_id=order_id,
                gateway="sandbox",
                provider_reference="ref-raw",
                kind="payment",
                status="succeeded",
                amount_minor=1234,
                currency="EUR",
                raw={"blob": "x" * 50_000},
            )
        )
        conn.execute(
            insert(OrderEvent).values(
                order_id=order_id,
                kind="note",
                actor="raw-check@example.com",
                message="checked the parcel",
                data={"blob": "y" * 50_000},
            )
        )
    owner.get(f"/orders/{order_id}")
    with world.queries() as seen:
        page = owner.get(f"/orders/{order_id}")
    assert "sandbox" in page.text and "raw-check@example.com" in page.text
    assert "checked the parcel" in page.text
    assert "x" * 100 not in page.text and "y" * 100 not in page.text
    read = " ".join(seen)
    assert "order_lines" in read and "payments" in read and "order_events" in read
    assert "payments.raw" not in read and "order_events.data" not in read, seen


def test_order_page_shows_texts_that_json_must_escape_exactly(world, owner):
    """Lines and the timeline travel as JSON in the order's row on MariaDB:
    quotes, backslashes, newlines, control characters and 4-byte characters
    come out as they went in (and the page escapes the markup)."""
    tricky = ['say "hi"', "back\\slash", "two\nlines", "😀 Їжак", "</td><script>x</script>"]
    order_id = world.add_order(lines=len(tricky))
    with world.engine.begin() as conn:
        line_ids = (
            conn.execute(
                select(OrderLine.id).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
            )
            .scalars()
            .all()
        )
        for line_id, text in zip(line_ids, tricky, strict=True):
            conn.execute(update(OrderLine).where(OrderLine.id == line_id).values(name=text))
        conn.execute(
            insert(OrderEvent).values(
                order_id=order_id,
                kind="note",
                actor="x@example.com",
                message="tab\there \x01 " + tricky[-1],
            )
        )
    page = owner.get(f"/orders/{order_id}")
    shown = [
        row.select("td")[0].get_text()
        for row in page.html.select('section[aria-labelledby="h-lines"] tbody tr')
    ]
    assert shown == tricky
    assert "<script>x</script>" not in page.text  # escaped, not markup
    note = page.html.select_one("#timeline li.note .text").get_text()
    assert note == "tab\there \x01 " + tricky[-1]
