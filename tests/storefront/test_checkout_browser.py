"""The hosted checkout in a real browser (headless Chromium), served by waitress on MariaDB:
product link -> cart -> Russian -> details (with errors) -> payment -> review -> the
sandbox card page -> the order page, paid. A screenshot per step in ``screenshots/``,
each page checked for console errors (a CSP violation, a missing stylesheet) and for
being wider than the window, on a desktop and on a phone-sized window.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from backoffice.config import make_app
from tests.browser import (  # noqa: F401  (browser is a fixture)
    browser,
    click_and_wait,
    console_errors,
    horizontal_overflow,
    live_server,
    save_screenshot,
)
from tests.storefront.checkout_fixtures import *  # noqa: F403  (fixtures, found by name)
from tests.storefront.checkout_fixtures import DETAILS, SANDBOX_SECRET, plain

pytest.importorskip("selenium")
PHONE = (390, 844)


class Checkout:
    """The browser on the checkout pages, with the checks every page gets."""

    def __init__(self, driver, base: str):
        self.driver, self.base = driver, base
        self.wait = WebDriverWait(driver, 15)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "body") -> str:
        return plain(self.find(css).text)

    def click_and_wait(self, css: str) -> None:
        click_and_wait(self.driver, self.wait, self.find(css))

    def looks_clean(self, name: str, status: int = 200) -> None:
        save_screenshot(self.driver, name)
        # A refused form is answered 422, which Chromium logs as a failed load.
        errors = [
            e
            for e in console_errors(self.driver)
            if not (status != 200 and f"status of {status}" in e)
        ]
        assert errors == [], name
        assert horizontal_overflow(self.driver) == 0, f"{name} is wider than the window"

    def on_phone(self, name: str) -> None:
        self.driver.set_window_size(*PHONE)
        self.looks_clean(name)
        self.driver.set_window_size(1280, 900)


def test_a_shopper_orders_and_pays_in_russian(browser, api_settings, control, store):  # noqa: F811
    with live_server(make_app(api_settings, control=control)) as base:
        store.gateway(
            "sandbox",
            {"page_url": f"{base}{store.prefix}/payments/sandbox", "secret": SANDBOX_SECRET},
        )
        page = Checkout(browser, base)
        browser.get(f"{base}{store.prefix}/checkout/add?sku=TEA-1&qty=2")
        assert page.text("h1") == "Your cart"
        assert "€25.00" in page.text("tfoot") and page.text(".brand-name") == "Tea & Co"
        page.looks_clean("checkout-01-cart")

        page.click_and_wait(".langs a[hreflang=ru]")
        assert page.text("h1") == "Ваша корзина" and "25,00 €" in page.text("tfoot")
        page.looks_clean("checkout-02-cart-ru")
        page.on_phone("checkout-02-cart-ru-phone")

        page.click_and_wait("button[name=next]")
        assert page.text("h1") == "Контакты и доставка"
        page.click_and_wait("form.form button[type=submit]")  # nothing filled in
        errors = [plain(e.text) for e in page.find_all(".field-error")]
        assert "Введите имя и фамилию." in errors and "Выберите страну." in errors
        page.looks_clean("checkout-03-details-errors", status=422)
        for name in ("name", "email", "phone", "address", "postcode", "city"):
            field = page.find(f"#f-{name}")
            field.clear()
            field.send_keys(DETAILS[name])
        Select(page.find("#f-country")).select_by_value("DE")
        page.find("#f-comment").send_keys("Позвоните за час")
        page.on_phone("checkout-04-details-phone")
        page.click_and_wait("form.form button[type=submit]")

        assert page.text("h1") == "Способ оплаты"
        labels = [plain(e.text) for e in page.find_all(".choice-title")]
        assert {"Карта (тестовый платёж)", "Банковский перевод", "Оплата при получении"} <= set(
            labels
        )
        page.find("input[name=method][value=sandbox]").click()
        page.looks_clean("checkout-05-payment")
        page.click_and_wait("form.form button[type=submit]")

        assert page.text("h1") == "Проверьте заказ"
        review = page.text("main")
        assert "Германия" in review and "ann@example.com" in review and "25,00 €" in review
        page.looks_clean("checkout-06-review")
        page.on_phone("checkout-06-review-phone")
        page.click_and_wait("form.place button[type=submit]")

        assert "/payments/sandbox" in browser.current_url
        save_screenshot(browser, "checkout-07-sandbox-card")
        console_errors(browser)  # the provider's page (ours only for the demo) is not checked
        page.click_and_wait("form button[type=submit]")

        assert "/checkout/order/" in browser.current_url
        assert page.text("h1").startswith("Заказ ")
        assert page.text(".badge.payment") == "Оплачен"
        assert "Спасибо за заказ!" in page.text(".order-head")
        page.looks_clean("checkout-08-order-paid")
        page.on_phone("checkout-08-order-paid-phone")
        order_url = browser.current_url

    [order] = store.orders()
    assert (order.payment_status, order.locale, order.total_minor) == ("paid", "ru", 2500)
    assert order_url.endswith(order.status_token) and store.stock("TEA-1") == 8
