"""The back office in a real browser (headless Chromium): sign in, filter the
orders, open one, change its status, switch to Russian; turn on two-factor
sign-in and sign in with a code; a screenshot per page.

The app runs under waitress against the run's MariaDB with a seeded store.
Every page is also checked for console errors (a missing stylesheet or icon)
and for a page wider than the window.
"""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from backoffice.config import make_app
from backoffice.models import Order, StaffUser
from tests.backoffice.admin_fixtures import *  # noqa: F403  (fixtures, found by name)
from tests.backoffice.admin_fixtures import OWNER, store_engine
from tests.browser import *  # noqa: F403  (the browser fixture, found by name)
from tests.browser import (
    REQUIRE_BROWSER,
    click_and_wait,
    console_errors,
    horizontal_overflow,
    live_server,
    save_screenshot,
)

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:
    if REQUIRE_BROWSER:
        raise
    pytest.skip("selenium is not installed", allow_module_level=True)


@pytest.fixture
def site(mysql_settings, control, shop):
    """The back office of the seeded store, served over HTTP; yields its /admin URL."""
    with live_server(make_app(mysql_settings, control=control)) as base:
        yield f"{base}/s/{shop.slug}/admin"


def read_store(control, store, query):
    engine = store_engine(control, store)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    return rows


class Page:
    """The browser on one back-office page, with the checks every page gets."""

    def __init__(self, driver):
        self.driver = driver
        self.wait = WebDriverWait(driver, 10)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def h1(self) -> str:
        return self.find("h1").text

    def submit(self, button_css: str):
        """Click a submit button and wait for the next page to replace this one."""
        click_and_wait(self.driver, self.wait, self.find(button_css))

    def looks_clean(self, name: str) -> None:
        save_screenshot(self.driver, name)
        assert console_errors(self.driver) == [], name
        assert horizontal_overflow(self.driver) == 0, f"{name} is wider than the window"


def test_owner_works_through_orders_and_switches_to_russian(browser, site, control, shop):
    page = Page(browser)
    browser.get(f"{site}/login")
    assert page.h1() == "Sign in"
    page.looks_clean("backoffice-01-login")

    page.find("#email").send_keys(OWNER[0])
    page.find("#password").send_keys(OWNER[1])
    page.submit("main.auth button[type=submit]")
    assert page.h1() == "Dashboard"
    assert page.find(".topbar .who").text == OWNER[0]
    page.looks_clean("backoffice-02-dashboard")

    # Orders: only the new ones.
    page.find("nav.sidebar a[href$='/admin/orders']").click()
    page.wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "h1"), "Orders"))
    Select(page.find("#f-status")).select_by_value("new")
    page.submit("form[role=search] button[type=submit]")
    assert "status=new" in browser.current_url
    badges = [b.text for b in page.find_all("tbody .badge.status")]
    new_orders = read_store(control, shop, select(Order.number).where(Order.status == "new"))
    assert badges and set(badges) == {"New"}
    assert len(badges) == min(len(new_orders), 50)
    page.looks_clean("backoffice-03-orders-new")

    # One order: its lines, then a status change along the flow.
    link = page.find("tbody a[href*='/admin/orders/']")
    number = link.text
    link.click()
    page.wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "h1"), number))
    assert page.find("h1 .badge.status").text == "New"
    assert page.find_all("#h-lines + .table-wrap tbody tr")
    page.looks_clean("backoffice-04-order")

    Select(page.find("#f-status")).select_by_value("confirmed")
    page.submit("form[action$='/status'] button[type=submit]")
    assert page.find("h1 .badge.status").text == "Confirmed"
    assert f"Order {number} is now “Confirmed”." in page.find(".flash.success").text
    assert "Status changed from “New” to “Confirmed”" in page.find("ol.timeline").text
    (status,) = read_store(control, shop, select(Order.status).where(Order.number == number))
    assert status == ("confirmed",)
    page.looks_clean("backoffice-05-order-confirmed")

    # Russian, from the switch in the top bar; kept as the owner's preference.
    page.submit(".lang-switch button[value=ru]")
    assert page.find("html").get_attribute("lang") == "ru"
    assert page.h1().startswith(f"Заказ {number}")
    assert page.find("h1 .badge.status").text == "Подтверждён"
    assert "Статус изменён: «Новый» → «Подтверждён»" in page.find("ol.timeline").text
    assert "Заказы" in page.find("nav.sidebar").text
    page.looks_clean("backoffice-06-order-ru")
    (locale,) = read_store(
        control, shop, select(StaffUser.locale).where(StaffUser.email == OWNER[0])
    )
    assert locale == ("ru",)

    page.find("nav.sidebar a[href$='/admin/dashboard']").click()
    page.wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "h1"), "Обзор"))
    assert "Выручка" in page.find(".kpis").text
    page.looks_clean("backoffice-07-dashboard-ru")

    browser.get(f"{site}/orders")
    assert page.h1() == "Заказы"
    sortable = [a.get_attribute("textContent").strip() for a in page.find_all("thead th a")]
    assert sortable == ["Номер", "Дата ↓", "Клиент", "Статус", "Итого"]
    page.looks_clean("backoffice-08-orders-ru")


def test_order_pages_fit_a_phone(browser, site, control, shop):
    browser.set_window_size(390, 844)
    page = Page(browser)
    browser.get(f"{site}/login")
    page.find("#email").send_keys(OWNER[0])
    page.find("#password").send_keys(OWNER[1])
    page.submit("main.auth button[type=submit]")
    page.looks_clean("backoffice-phone-01-dashboard")
    browser.get(f"{site}/orders")
    page.looks_clean("backoffice-phone-02-orders")
    (order_id,) = read_store(control, shop, select(Order.id).order_by(Order.id).limit(1))[0]
    browser.get(f"{site}/orders/{order_id}")
    page.looks_clean("backoffice-phone-03-order")


def test_owner_turns_on_two_factor_and_signs_in_with_a_code(browser, site):
    """Enrol from the profile (the key read off the page), sign out, sign in
    with the password and then a TOTP code computed here."""
    page = Page(browser)
    browser.get(f"{site}/login")
    page.find("#email").send_keys(OWNER[0])
    page.find("#password").send_keys(OWNER[1])
    page.submit("main.auth button[type=submit]")
    browser.get(f"{site}/profile")
    assert page.find("#two-factor-state").text == "Off"
    assert "this browser" in page.find("#sessions").text
    page.submit("#two-factor-link")
    assert page.h1() == "Two-factor sign-in"
    assert page.find(".qr svg").is_displayed()
    secret = page.find("#totp-secret").text
    assert f"secret={secret}" in page.find("#totp-uri").get_attribute("href")
    page.looks_clean("backoffice-09-two-factor-enrol")
    page.find("#f-code").send_keys(pyotp.TOTP(secret).now())
    page.submit("form[action$='/profile/two-factor'] button[type=submit]")
    assert len(page.find_all("#recovery-codes li")) == 10
    page.looks_clean("backoffice-10-two-factor-recovery-codes")

    page.submit(".topbar form.inline button[type=submit]")  # sign out
    assert page.h1() == "Sign in"
    page.find("#email").send_keys(OWNER[0])
    page.find("#password").send_keys(OWNER[1])
    page.submit("main.auth button[type=submit]")
    assert page.h1() == "Two-factor sign-in"
    assert browser.current_url.endswith("/admin/login/code")
    page.looks_clean("backoffice-11-two-factor-code")
    # The next step's code: the enrolment used this step's, and a code is good once.
    page.find("#code").send_keys(pyotp.TOTP(secret).at(time.time() + 30))
    page.submit("main.auth button[type=submit]")
    assert page.h1() == "Dashboard"
    assert page.find(".topbar .who").text == OWNER[0]
