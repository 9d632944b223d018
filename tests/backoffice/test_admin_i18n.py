"""Pages in the reader's language: staff preference, then ``_LOCALE_``, then
Accept-Language, then the store's default; money and dates formatted by Babel."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency
from sqlalchemy import select

from backoffice.models import Order
from tests.backoffice.admin_fixtures import *  # noqa: F403  (fixtures, found by name)
from tests.backoffice.admin_fixtures import store_engine

STORE_ZONE = ZoneInfo("Europe/Kyiv")  # the demo store's timezone (backoffice.demo)
ASSAM_TEA = Decimal("12.90")  # TEA-001 of the demo catalogue, in EUR


def newest_order(control, store) -> Order:
    engine = store_engine(control, store)
    with engine.connect() as conn:
        row = conn.execute(
            select(Order.id, Order.number, Order.created_at, Order.total_minor)
            .order_by(Order.created_at.desc())
            .limit(1)
        ).one()
    engine.dispose()
    return row


def local_time(moment, fmt: str, locale: str) -> str:
    return format_datetime(moment.replace(tzinfo=UTC).astimezone(STORE_ZONE), fmt, locale=locale)


def form_with(page, field: str):
    """The page's form with this field (the language switch is a form too)."""
    return next(f for f in page.forms.values() if field in f.fields)


def test_sign_in_page_follows_locale_param_then_accept_language(admin):
    page = admin.get("/login?_LOCALE_=ru")
    assert page.html.html["lang"] == "ru"
    assert page.html.find("h1").text == "Войти"
    assert "Пароль" in page.text
    page = admin.get("/login", headers={"Accept-Language": "uk, en;q=0.5"})
    assert page.html.find("h1").text == "Увійти"
    page = admin.get("/login?_LOCALE_=en", headers={"Accept-Language": "ru"})
    assert page.html.find("h1").text == "Sign in"
    assert admin.get("/login?_LOCALE_=xx").html.find("h1").text == "Sign in"


def test_russian_pages_show_russian_text_money_and_dates(shop_owner, control):
    products = shop_owner.get("/products?_LOCALE_=ru")
    assert products.html.find("h1").text == "Товары"
    assert format_currency(ASSAM_TEA, "EUR", locale="ru") in products.text  # "12,90 €"
    assert format_currency(ASSAM_TEA, "EUR", locale="en") not in products.text  # "€12.90"

    newest = newest_order(control, shop_owner.store)
    orders = shop_owner.get("/orders?_LOCALE_=ru")
    assert orders.html.find("h1").text == "Заказы"
    assert "Фильтр заказов" in orders.text
    assert local_time(newest.created_at, "short", "ru") in orders.text
    assert local_time(newest.created_at, "short", "en") not in orders.text

    detail = shop_owner.get(f"/orders/{newest.id}?_LOCALE_=ru")
    assert f"Заказ {newest.number}" in detail.html.find("h1").text
    assert local_time(newest.created_at, "medium", "ru") in detail.text  # "22 нояб. 2026 г., …"
    total = Decimal(newest.total_minor).scaleb(-2)
    assert format_currency(total, "EUR", locale="ru") in detail.text
    assert "Заказ оформлен" in detail.text  # the timeline's first entry
    assert "Оформление заказа" in detail.text  # the order's source, named


def test_csv_export_has_translated_headers(shop_owner):
    export = shop_owner.get("/orders/export.csv?_LOCALE_=uk")
    header = export.body.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Номер,Дата,Статус,Оплата,Клієнт")


def test_staff_preference_comes_first(shop_owner):
    shop_owner.post("/profile/language", {"locale": "uk", "next": "/admin/orders"}, status=303)
    page = shop_owner.get("/dashboard?_LOCALE_=ru", headers={"Accept-Language": "ru"})
    assert page.html.html["lang"] == "uk"
    assert page.html.find("h1").text == "Огляд"
    products = shop_owner.get("/products")
    assert format_currency(ASSAM_TEA, "EUR", locale="uk") in products.text

    # "Same as the browser": the preference is cleared, Accept-Language decides.
    profile = form_with(shop_owner.get("/profile"), "current_password")
    profile["locale"] = ""
    profile.submit(status=303)
    page = shop_owner.get("/dashboard", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert page.html.find("h1").text == "Обзор"
    assert (
        shop_owner.get("/dashboard?_LOCALE_=en", headers={"Accept-Language": "ru"})
        .html.find("h1")
        .text
        == "Dashboard"
    )


def test_store_default_language_applies_last(shop_owner):
    settings = form_with(shop_owner.get("/settings"), "default_locale")
    settings["default_locale"] = "ru"
    settings.submit(status=303)
    assert shop_owner.get("/dashboard").html.find("h1").text == "Обзор"
    page = shop_owner.get("/dashboard", headers={"Accept-Language": "uk"})
    assert page.html.find("h1").text == "Огляд"


def test_error_pages_are_translated(shop_owner):
    page = shop_owner.get("/orders?_LOCALE_=ru&page=abc", status=400)
    assert "Номер страницы должен быть целым числом" in page.text
    page = shop_owner.get("/orders/999999?_LOCALE_=uk", status=404)
    assert page.html.find("h1").text == "Сторінку не знайдено"


def test_language_switch_returns_to_the_same_page(shop_owner):
    page = shop_owner.get("/orders?status=new")
    switch = form_with(page, "locale")
    res = switch.submit("locale", index=1, status=303)  # the second button: RU
    assert res.location.endswith(f"/s/{shop_owner.store.slug}/admin/orders?status=new")
    assert res.follow().html.find("h1").text == "Заказы"
