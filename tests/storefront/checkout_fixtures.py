"""Fixtures of the checkout tests: a store with products and payment methods, a shopper.

Imported by the ``test_checkout*`` modules (pytest finds fixtures by name there).
The store is a real MariaDB database; the app is ``make_app`` behind WebTest.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from webtest import TestApp

from backoffice.config import make_app
from backoffice.models import Checkout, Order, OrderEvent, Product, StoreSetting
from backoffice.payments.configs import GatewaySettings
from payments.registry import GatewayRegistry
from tests.storefront.conftest import Shop, seed, store_engine

SANDBOX_SECRET = "sandbox-secret-of-the-checkout-tests"
BANK_TEXT = "Pay {amount} to IBAN DE00 1234 with reference {order_reference}."
DETAILS = {
    "name": "Ann Example",
    "email": "Ann@Example.com",
    "phone": "+1 555 0100",
    "address": "1 Main Street",
    "postcode": "10115",
    "city": "Berlin",
    "country": "DE",
    "comment": "Ring twice",
}


# What each language must show (independent of the catalogs: a missing
# translation fails the test). Prices of TEA-1 (12.50 EUR) as Babel formats them.
TEXT = {
    "en": {
        "cart": "Your cart",
        "empty": "Your cart is empty.",
        "price": "€12.50",
        "name_required": "Enter your full name.",
        "email_bad": "Enter an e-mail address like name@example.com.",
        "country_required": "Choose a country.",
        "choose_method": "Choose one of the payment methods.",
        "germany": "Germany",
        "bank": "Bank transfer",
        "thanks": "Thank you for your order!",
        "status_new": "New",
        "unpaid": "Unpaid",
        "paid": "Paid",
        "out_of_stock": "Some products are no longer in stock",
        "in_stock_1": "In stock: 1",
        "closed": "This store is not taking orders right now",
        "suspended": "This store is suspended",
        "csrf": "Please send the form again",
        "qty_error": "Enter a quantity from 1 to 999.",
        "updated": "Your cart has been updated.",
        "bad_link": "This cart link does not work",
        "not_available": "This product is not available.",
        "order_missing": "Order not found",
        "prices_changed": "Prices have changed",
    },
    "ru": {
        "cart": "Ваша корзина",
        "empty": "Ваша корзина пуста.",
        "price": "12,50 €",
        "name_required": "Введите имя и фамилию.",
        "email_bad": "Введите адрес вида name@example.com.",
        "country_required": "Выберите страну.",
        "choose_method": "Выберите один из способов оплаты.",
        "germany": "Германия",
        "bank": "Банковский перевод",
        "thanks": "Спасибо за заказ!",
        "status_new": "Новый",
        "unpaid": "Не оплачен",
        "paid": "Оплачен",
        "out_of_stock": "Некоторых товаров нет в наличии",
        "in_stock_1": "В наличии: 1",
        "closed": "Магазин сейчас не принимает заказы",
        "suspended": "Работа магазина приостановлена",
        "csrf": "Отправьте форму ещё раз",
        "qty_error": "Укажите количество от 1 до 999.",
        "updated": "Корзина обновлена.",
        "bad_link": "Ссылка на корзину не работает",
        "not_available": "Этот товар недоступен.",
        "order_missing": "Заказ не найден",
        "prices_changed": "Цены изменились",
    },
    "uk": {
        "cart": "Ваш кошик",
        "empty": "Ваш кошик порожній.",
        "price": "12,50 EUR",
        "name_required": "Введіть ім’я та прізвище.",
        "email_bad": "Введіть адресу у вигляді name@example.com.",
        "country_required": "Виберіть країну.",
        "choose_method": "Виберіть один зі способів оплати.",
        "germany": "Німеччина",
        "bank": "Банківський переказ",
        "thanks": "Дякуємо за замовлення!",
        "status_new": "Нове",
        "unpaid": "Не оплачено",
        "paid": "Оплачено",
        "out_of_stock": "Деяких товарів немає в наявності",
        "in_stock_1": "В наявності: 1",
        "closed": "Магазин зараз не приймає замовлення",
        "suspended": "Роботу магазину призупинено",
        "csrf": "Надішліть форму ще раз",
        "qty_error": "Вкажіть кількість від 1 до 999.",
        "updated": "Кошик оновлено.",
        "bad_link": "Посилання на кошик не працює",
        "not_available": "Цей товар недоступний.",
        "order_missing": "Замовлення не знайдено",
        "prices_changed": "Ціни змінилися",
    },
}
LANGS = tuple(TEXT)


def plain(text: str) -> str:
    """Babel's narrow and non-breaking spaces made plain, runs of spaces made one."""
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def text_of(res) -> str:
    return plain(res.html.get_text(" ", strip=True))


@dataclass
class Store:
    """One provisioned store seen from the outside: its database, its checkout URL."""

    control: object
    shop: Shop

    @property
    def tenant(self):
        return self.shop.tenant

    @property
    def prefix(self) -> str:
        return f"/s/{self.shop.slug}"

    def session(self) -> Session:
        return Session(store_engine(self.control, self.tenant))

    def scalar(self, query):
        with self.session() as db:
            return db.scalar(query)

    def orders(self) -> list[Order]:
        with self.session() as db:
            return list(db.scalars(select(Order).order_by(Order.id)))

    def order_count(self) -> int:
        return self.scalar(select(func.count()).select_from(Order))

    def stock(self, sku: str) -> int:
        return self.scalar(select(Product.stock).where(Product.sku == sku))

    def events(self, order_id: int) -> list[OrderEvent]:
        with self.session() as db:
            return list(
                db.scalars(
                    select(OrderEvent)
                    .where(OrderEvent.order_id == order_id)
                    .order_by(OrderEvent.id)
                )
            )

    def checkouts(self) -> list[Checkout]:
        with self.session() as db:
            return list(db.scalars(select(Checkout).order_by(Checkout.id)))

    def execute(self, statement) -> None:
        with self.session() as db, db.begin():
            db.execute(statement)

    def set_stock(self, sku: str, stock: int) -> None:
        self.execute(update(Product).where(Product.sku == sku).values(stock=stock))

    def set_setting(self, key: str, value: str) -> None:
        with self.session() as db, db.begin():
            row = db.get(StoreSetting, key)
            if row is None:
                db.add(StoreSetting(key=key, value=value))
            else:
                row.value = value

    def gateway(self, name: str, values: dict, *, enabled: bool = True) -> None:
        with self.session() as db, db.begin():
            settings = GatewaySettings(db, self.control.keyring, self.tenant.id, GatewayRegistry())
            settings.save(name, values)
            settings.set_enabled(name, enabled)


def add_gateways(store: Store, base_url: str = "http://localhost") -> None:
    store.gateway(
        "sandbox",
        {"page_url": f"{base_url}{store.prefix}/payments/sandbox", "secret": SANDBOX_SECRET},
    )
    store.gateway("manual", {"instructions": BANK_TEXT})
    store.gateway("cod", {})


class Shopper:
    """A browser without JavaScript on one store's checkout (WebTest keeps the cookies)."""

    def __init__(self, app: TestApp, store: Store):
        self.app, self.store = app, store
        self.base = f"{store.prefix}/checkout"

    def url(self, path: str = "") -> str:
        return self.base + path

    def get(self, path: str = "", **kw):
        return self.app.get(self.url(path), **kw)

    def add(self, sku: str = "TEA-1", qty: int | str = 1, lang: str | None = None, **kw):
        params = {"sku": sku, "qty": str(qty)}
        res = self.get("/add", params=params, status=303, **kw)
        return res.follow(params={"lang": lang} if lang else {}, **kw)

    @staticmethod
    def form(res, action: str):
        for form in res.forms.values():
            if form.action.endswith(action):
                return form
        raise AssertionError(f"no form posting to {action} on {res.request.url}")

    def details(self, status: int = 303, **overrides):
        res = self.get("/details")
        form = self.form(res, "/checkout/details")
        for name, value in {**DETAILS, **overrides}.items():
            form[name] = value
        return form.submit(status=status)

    def choose(self, method: str | None = "manual", status: int = 303):
        res = self.get("/payment")
        form = self.form(res, "/checkout/payment")
        if method is not None:
            form["method"] = method
        return form.submit(status=status)

    def review(self, **kw):
        return self.get("/review", **kw)

    def place(self, status="*"):
        return self.form(self.review(), "/checkout/place").submit(status=status)

    def through_review(
        self, sku: str = "TEA-1", qty: int = 2, method: str = "manual", lang: str | None = None
    ):
        self.add(sku, qty, lang=lang)
        self.details()
        self.choose(method)
        return self.review()


@pytest.fixture
def checkout_app(api_settings, control):
    return TestApp(make_app(api_settings, control=control))


@pytest.fixture
def store(control, make_store):
    tenant = make_store(name="Tea & Co")
    seed(control, tenant)
    store = Store(control, Shop(tenant))
    add_gateways(store)
    return store


@pytest.fixture
def shopper(checkout_app, store):
    return Shopper(checkout_app, store)
