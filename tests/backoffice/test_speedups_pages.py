"""The back office with its speedups on, all off, and each one off alone: the
same pages, byte for byte, and the same formatted money and dates."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from pyramid_jinja2 import IJinja2Environment
from sqlalchemy import select, update
from webtest import TestApp

from backoffice.config import make_app
from backoffice.formatting import Formatter
from backoffice.models import Customer, OrderEvent, OrderLine, Product
from backoffice.speedups import escaping
from tests.backoffice.admin_fixtures import Admin, count_queries
from tests.backoffice.admin_world import ACCOUNTS, world  # noqa: F401  (a fixture)
from tests.speedups import switch

# What each app variant turns off ("all": the master switch).
VARIANTS = {
    "all on": (),
    "all off": "all",
    **{
        f"{name} off": (name,)
        for name in (
            "escaping",
            "template_gettext",
            "money_format",
            "date_format",
            "order_detail_json",
            "datetime_parser",
            "shared_dialect",
        )
    },
}
LOCALES = ("en", "ru", "uk")


@pytest.fixture(scope="module")
def apps(world, mysql_control, mysql_settings):  # noqa: F811
    """One app per variant, all serving the world's store, built under its environment."""
    built = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for variant, off in VARIANTS.items():
            switch(monkeypatch, off)
            built[variant] = make_app(mysql_settings, control=mysql_control)
    yield built
    for app in built.values():
        app.registry.engines.dispose()


@pytest.fixture(scope="module")
def pages(world):  # noqa: F811
    """Paths of pages that show money, dates, labels, user text and child lists."""
    tricky = ['say "hi" & <b>', "back\\slash", "two\nlines", "😀 Їжак"]
    detail = world.add_order(
        lines=len(tricky), status="confirmed", payment_status="paid", total=123456
    )
    with world.engine.begin() as conn:
        line_ids = conn.scalars(
            select(OrderLine.id).where(OrderLine.order_id == detail).order_by(OrderLine.id)
        ).all()
        for line_id, text in zip(line_ids, tricky, strict=True):
            conn.execute(update(OrderLine).where(OrderLine.id == line_id).values(name=text))
        conn.execute(
            OrderEvent.__table__.insert().values(
                order_id=detail, kind="note", actor="x@example.com", message="<i>a note</i>"
            )
        )
    yen = world.add_order(lines=2, currency="JPY", total=98765, name="Коваленко & Co")
    customer = world.scalar(select(Customer.id).order_by(Customer.id))
    product = world.scalar(select(Product.id).order_by(Product.id))
    return [
        "/orders",
        "/orders?status=confirmed&q=a",
        "/orders?sort=-total",
        f"/orders/{detail}",
        f"/orders/{yen}",
        "/dashboard",
        "/customers",
        f"/customers/{customer}",
        "/products",
        f"/products/{product}",
        "/settings",
        "/settings/statuses",
        "/staff",
        "/audit",
        "/payments",
    ]


def signed_in(apps: dict, store) -> dict[str, Admin]:
    """A client per app, all in one browser: one sign-in, one session cookie (the
    staff list shows the last sign-in; the forms, the session's CSRF token)."""
    first = Admin(TestApp(apps["all on"]), store)
    first.login(*ACCOUNTS["owner"])
    return {
        variant: Admin(TestApp(app, cookiejar=first.app.cookiejar), store)
        for variant, app in apps.items()
    }


def render_all(client: Admin, paths) -> dict[tuple[str, str], str]:
    return {
        (path, locale): client.get(path + ("&" if "?" in path else "?") + f"_LOCALE_={locale}").text
        for path in paths
        for locale in LOCALES
    }


def test_pages_are_the_same_with_each_speedup_off_and_all_off(world, apps, pages):  # noqa: F811
    rendered = {
        variant: render_all(client, pages)
        for variant, client in signed_in(apps, world.store).items()
    }
    reference = rendered["all on"]
    assert "Їжак" in reference[(pages[3], "uk")] and "Замовлення" in reference[(pages[0], "uk")]
    differing = {
        variant: sorted(key for key, html in htmls.items() if html != reference[key])
        for variant, htmls in rendered.items()
    }
    assert {variant: keys for variant, keys in differing.items() if keys} == {}


def test_the_variants_really_differ(apps):
    """The comparison above compares something: each switch reached the app."""

    def state(app):
        env = app.registry.getUtility(IJinja2Environment, name=".jinja2")
        engines = app.registry.engines
        return {
            "escaping": env.template_class is escaping.Template,
            "template_gettext": env.globals["_"] is env.globals["gettext"],
            "shared_dialect": engines.share_dialects,
            "datetime_parser": bool(engines.conversions),
        }

    assert set(state(apps["all on"]).values()) == {True}
    assert set(state(apps["all off"]).values()) == {False}
    for name in state(apps["all on"]):
        assert [k for k, v in state(apps[f"{name} off"]).items() if not v] == [name]


def test_the_order_page_costs_one_statement_less_per_child_list_with_json(world, apps, pages):  # noqa: F811
    """What ``order_detail_json`` buys: the order and its children in one statement."""
    counts, clients = {}, signed_in(apps, world.store)
    for variant in ("all on", "order_detail_json off"):
        app, client = apps[variant], clients[variant]
        client.get(pages[3])
        ref = app.registry.directory.by_slug(world.store.slug)
        with app.registry.engines.lease(ref) as engine, count_queries(engine) as seen:
            client.get(pages[3])
        counts[variant] = len(seen)
    assert counts == {"all on": 2, "order_detail_json off": 5}


# -- formatting: a table of locales and values ---------------------------------

FORMAT_LOCALES = ("en", "ru", "uk", "de", "fr", "ja", "ar", "hi", "en_IN", "de_CH", "pt_BR")
CURRENCIES = ("EUR", "UAH", "USD", "JPY", "KWD", "INR", "CHF")
ZONES = ("UTC", "Europe/Kyiv", "America/New_York", "Asia/Kolkata")


@pytest.mark.parametrize("locale", FORMAT_LOCALES)
def test_money_is_the_same_with_the_speedup_off(locale):
    rng = random.Random(locale)
    amounts = [
        0,
        1,
        -1,
        99,
        100,
        -12345,
        10**12 + 7,
        *(rng.randrange(-(10**9), 10**9) for _ in range(50)),
    ]
    fast, plain = Formatter(locale), Formatter(locale, fast_money=False)
    for currency in CURRENCIES:
        assert [fast.money(a, currency) for a in amounts] == [
            plain.money(a, currency) for a in amounts
        ], currency


@pytest.mark.parametrize("locale", FORMAT_LOCALES)
def test_dates_are_the_same_with_the_speedup_off(locale):
    moments = [
        datetime(2024, 1, 1, 0, 0, 7) + timedelta(hours=h * 37, minutes=h) for h in range(240)
    ]
    for zone in ZONES:
        fast, plain = Formatter(locale, zone), Formatter(locale, zone, fast_dates=False)
        for format in ("short", "medium", "long", "full", "yyyy-MM-dd HH:mm"):
            many_fast, many_plain = fast.datetimes(format), plain.datetimes(format)
            assert [many_fast(m) for m in moments] == [many_plain(m) for m in moments], (
                zone,
                format,
            )
            assert fast.datetime(moments[5], format) == plain.datetime(moments[5], format)
        assert fast.short_datetime(None) == plain.short_datetime(None) == ""
