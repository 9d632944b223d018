"""The hosted checkout, step by step, in English, Russian and Ukrainian (WebTest, MariaDB)."""

from __future__ import annotations

import pytest
from babel.dates import format_date
from sqlalchemy import select, update
from webtest import TestApp

from backoffice.config import make_app
from backoffice.models import Customer, GatewayConfig, Order
from backoffice.schema import store_schema
from tenancy.provisioning import Provisioner, StoreRequest
from tests.storefront.checkout_fixtures import *  # noqa: F403  (fixtures, found by name)
from tests.storefront.checkout_fixtures import (
    BANK_TEXT,
    LANGS,
    TEXT,
    Shopper,
    Store,
    add_gateways,
    plain,
    text_of,
)
from tests.storefront.conftest import Shop, add_key, seed
from tests.storefront.test_webhooks import add_endpoint, receiver  # noqa: F401


@pytest.mark.parametrize("lang", LANGS)
def test_every_step_in_each_language(shopper, store, lang):
    t = TEXT[lang]
    res = shopper.get(params={"lang": lang})
    assert t["empty"] in text_of(res)
    assert res.html.html["lang"] == lang

    res = shopper.add("TEA-1", 2)
    page = text_of(res)
    assert t["cart"] in page and "Green tea" in page and t["price"] in page
    assert res.html.select_one("input.qty")["value"] == "2"

    # Empty details: a message under each required field, in the shopper's language.
    res = shopper.details(status=422, name="", email="not-an-e-mail", country="")
    errors = {e["id"]: e.get_text() for e in res.html.select(".field-error")}
    assert errors == {
        "e-name": t["name_required"],
        "e-email": t["email_bad"],
        "e-country": t["country_required"],
    }
    assert res.html.select_one("#f-email")["aria-invalid"] == "true"
    # Nothing typed is lost, on the refused page and when coming back later.
    assert res.html.select_one("#f-email")["value"] == "not-an-e-mail"
    assert res.html.select_one("#f-city")["value"] == "Berlin"
    assert shopper.get("/details").html.select_one("#f-phone")["value"] == "+1 555 0100"
    assert shopper.get("/payment", status=303).location.endswith("/checkout/details")

    # utf8mb4 end to end: names and addresses in the shopper's own script.
    local = (
        {}
        if lang == "en"
        else {"name": "Ганна Їжак-Ґудзь", "city": "Львів", "address": "вул. Шевченка, 1 «Б»"}
    )
    shopper.details(**local)
    res = shopper.choose(None, status=422)
    assert t["choose_method"] in text_of(res)
    shopper.choose("manual")

    res = shopper.review()
    page = text_of(res)
    assert t["germany"] in page and t["bank"] in page and "ann@example.com" in page
    assert res.html.select_one("[data-total]")["data-total"] == "2500"

    res = shopper.place(status=303)
    assert "/checkout/order/" in res.location
    res = res.follow()
    page = text_of(res)
    assert t["thanks"] in page and t["status_new"] in page and t["unpaid"] in page
    assert BANK_TEXT.split("{")[0] in page and "25.00 EUR" in page

    [order] = store.orders()
    assert plain(format_date(order.created_at.date(), "medium", locale=lang)) in page
    assert (order.source, order.locale, order.total_minor, order.status) == (
        "checkout",
        lang,
        2500,
        "new",
    )
    assert order.number == "API-00001"  # the store's numbering, as for API orders
    # The bank transfer's reference is the number the shopper sees, not our id.
    assert "with reference API-00001." in page
    assert order.customer_email == "ann@example.com"
    assert order.customer_name == local.get("name", "Ann Example")
    assert local.get("city", "Berlin") in order.shipping_address
    assert local.get("name", "Ann Example") in page
    assert store.stock("TEA-1") == 8
    kinds = [e.kind for e in store.events(order.id)]
    assert kinds == ["created", "note", "payment_started"]
    assert store.checkouts()[-1].state == "placed"
    assert res.headers["Referrer-Policy"] == "no-referrer"
    assert res.headers["Cache-Control"] == "no-store"


def test_language_switcher_is_remembered_and_accept_language_is_the_default(shopper):
    res = shopper.add("TEA-1", 1)
    links = {a["hreflang"]: a for a in res.html.select(".langs a")}
    assert set(links) == {"en", "ru", "uk"} and links["en"].get("aria-current") == "true"
    res = shopper.app.get(links["uk"]["href"])
    assert TEXT["uk"]["cart"] in text_of(res) and res.html.html["lang"] == "uk"
    # Later pages keep the choice without a parameter, whatever the browser prefers.
    res = shopper.get("/details", headers={"Accept-Language": "ru"})
    assert res.html.html["lang"] == "uk"
    fresh = type(shopper)(type(shopper.app)(shopper.app.app), shopper.store)
    res = fresh.get(headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert TEXT["ru"]["empty"] in text_of(res)


def test_store_name_and_logo(shopper, store):
    res = shopper.get()
    assert res.html.select_one(".brand-name").get_text() == "Tea & Co"
    assert res.html.select_one(".logo") is None
    store.set_setting("logo_url", "https://cdn.example.com/tea.png")
    logo = shopper.get().html.select_one("img.logo")
    assert (logo["src"], logo["alt"]) == ("https://cdn.example.com/tea.png", "Tea & Co")
    store.set_setting("logo_url", "javascript:alert(1)")
    assert shopper.get().html.select_one("img.logo") is None


@pytest.mark.parametrize("lang", LANGS)
def test_cart_quantities_remove_and_bad_links(shopper, store, lang):
    t = TEXT[lang]
    shopper.add("TEA-1", 1, lang=lang)
    res = shopper.add("TEA-2", 1)
    form = shopper.form(res, "/checkout/update")
    form["qty.TEA-1"] = "lots"
    res = form.submit(status=422)
    assert res.html.select_one(".field-error").get_text() == t["qty_error"]
    assert res.html.select_one("input[name='qty.TEA-1']")["value"] == "lots"
    form = shopper.form(res, "/checkout/update")
    form["qty.TEA-1"] = "3"
    res = form.submit(status=303).follow()
    assert t["updated"] in text_of(res)
    assert res.html.select_one("input[name='qty.TEA-1']")["value"] == "3"
    res = shopper.form(res, "/checkout/update").submit("remove", value="TEA-2", status=303).follow()
    assert [i["name"] for i in res.html.select("input.qty")] == ["qty.TEA-1"]
    for params in ({"sku": "NOPE"}, {"sku": "OLD-1"}):
        res = shopper.get("/add", params=params, status=303).follow()
        assert t["not_available"] in text_of(res)
    res = shopper.get("/add", params={"sku": "TEA-1", "qty": "0"}, status=303).follow()
    assert t["qty_error"] in text_of(res)
    assert store.checkouts()[-1].lines == [{"sku": "TEA-1", "quantity": 3}]


def test_a_reseller_page_posts_a_cart_without_a_token(shopper, store):
    res = shopper.app.post(
        shopper.url("/cart"),
        [
            ("sku", "TEA-1"),
            ("qty", "2"),
            ("sku", "TEA-2"),
            ("qty", "1"),
            ("sku", "NOPE"),
            ("qty", "1"),
            ("email", "Bob@Example.com"),
            ("name", "Bob"),
            ("lang", "uk"),
        ],
        headers={"Origin": "https://reseller.example"},
        status=303,
    )
    res = res.follow()
    page = text_of(res)
    assert TEXT["uk"]["cart"] in page and "Green tea" in page and "Black tea" in page
    assert res.html.select_one(".alert.error") is not None  # NOPE was refused, and said so
    details = shopper.get("/details").html
    assert details.select_one("#f-email")["value"] == "bob@example.com"
    assert details.select_one("#f-name")["value"] == "Bob"


def test_a_signed_cart_from_the_api_opens_the_checkout(shopper, store, control):
    key = add_key(control, store.tenant, "site", ["write"])
    made = shopper.app.post_json(
        "/api/v1/carts",
        {
            "lines": [{"sku": "TEA-1", "quantity": 1}, {"sku": "TEA-1", "quantity": 2}],
            "locale": "ru",
        },
        headers={"Host": store.shop.host, "Authorization": f"Bearer {key}"},
        status=201,
    ).json
    assert made["lines"] == [{"sku": "TEA-1", "quantity": 3}]
    assert made["url"].startswith(f"http://{store.shop.host}/checkout/c/")
    res = shopper.app.get(made["url"], status=303).follow()
    assert TEXT["ru"]["cart"] in text_of(res)
    assert res.html.select_one("input[name='qty.TEA-1']")["value"] == "3"
    # The same cart on the /s/<slug> path: the token is not bound to the host.
    res = shopper.get(made["url"].split("/checkout", 1)[1], status=303)
    assert res.location.endswith(f"/s/{store.shop.slug}/checkout")


def test_paying_online_with_the_sandbox_gateway(shopper, store):
    review = shopper.through_review(qty=1, method="sandbox")
    assert "/checkout/place" in review.text
    res = shopper.form(review, "/checkout/place").submit(status=303)
    assert res.location.endswith("/pay")
    order_url = res.location.rsplit("/pay", 1)[0]
    res = res.follow(status=303)
    assert "/payments/sandbox?token=" in res.location
    card = res.follow()
    card.forms[0]["card"] = "4242 4242 4242 4242"
    back = card.forms[0].submit(status=303)
    assert back.location == order_url
    page = text_of(back.follow())
    assert TEXT["en"]["paid"] in page and "Pay €12.50 now" not in page
    [order] = store.orders()
    assert order.payment_status == "paid"


DECLINED = {
    "en": "Your payment did not go through. You can try again",
    "ru": "Оплата не прошла. Можно попробовать ещё раз",
    "uk": "Оплата не пройшла. Можна спробувати ще раз",
}


@pytest.mark.parametrize("lang", ["en", "ru", "uk"])
def test_a_declined_card_says_so_and_the_next_card_pays(shopper, store, lang):
    review = shopper.through_review(qty=1, method="sandbox", lang=lang)
    res = shopper.form(review, "/checkout/place").submit(status=303)
    order_url = res.location.rsplit("/pay", 1)[0]
    card = res.follow(status=303).follow()
    card.forms[0]["card"] = "4000 0000 0000 0002"
    assert card.forms[0].submit(status=303).location == order_url
    page = shopper.app.get(order_url)
    [alert] = page.html.select(".pay-now [role=alert]")
    assert alert.get_text().startswith(DECLINED[lang])
    assert page.html.select_one(".pay-now a")["href"].endswith("/pay")
    [order] = store.orders()
    assert order.payment_status == "unpaid"

    card = shopper.app.get(order_url + "/pay", status=303).follow()
    card.forms[0]["card"] = "4242 4242 4242 4242"
    card.forms[0].submit(status=303)
    page = shopper.app.get(order_url)
    assert page.html.select("[role=alert]") == [] and page.html.select(".pay-now") == []
    [order] = store.orders()
    assert order.payment_status == "paid"


def test_an_unpaid_online_order_offers_to_pay_again(shopper, store):
    review = shopper.through_review(qty=1, method="sandbox")
    res = shopper.form(review, "/checkout/place").submit(status=303)
    order_url = res.location.rsplit("/pay", 1)[0]
    page = shopper.app.get(order_url)
    pay = page.html.select_one(".pay-now a")
    assert pay.get_text() == "Pay €12.50 now" and pay["href"].endswith("/pay")
    assert shopper.app.get(pay["href"], status=303).location.startswith(
        f"http://localhost{store.prefix}/payments/sandbox"
    )


def test_cash_on_delivery_and_a_webhook_like_api_orders(shopper, store, control, receiver):  # noqa: F811
    site = receiver()
    _id, site.secret = add_endpoint(control, store.shop, site.url, events=["order.created"])
    res = shopper.through_review(qty=1, method="cod", lang="ru")
    res = shopper.form(res, "/checkout/place").submit(status=303).follow()
    assert "Оплата при получении" in text_of(res)
    assert "Please pay 12.50 EUR to the courier" in text_of(res)
    [event] = [r["body"] for r in site.received]
    assert event["type"] == "order.created" and event["data"]["order"]["total_minor"] == 1250
    with store.session() as db:
        order = db.scalar(select(Order))
        assert event["data"]["order"]["status_token"] == order.status_token
        assert db.scalar(select(Customer.email)) == "ann@example.com"


def test_checkout_on_the_store_host(checkout_app, control, make_store):
    tenant = make_store(name="Host Shop")
    seed(control, tenant)
    host = Shop(tenant).host
    res = checkout_app.get("/checkout/add", {"sku": "TEA-1"}, headers={"Host": host}, status=303)
    assert res.location == f"http://{host}/checkout"
    res = checkout_app.get("/checkout", headers={"Host": host})
    assert "Host Shop" in text_of(res) and "Green tea" in text_of(res)
    assert res.html.select_one("link[rel=stylesheet]")["href"] == (
        f"http://{host}/checkout/static/checkout.css"
    )
    assert (
        checkout_app.get("/checkout/static/checkout.css", headers={"Host": host}).content_type
        == "text/css"
    )


def test_a_store_without_payment_methods_still_takes_orders(shopper, store):
    with store.session() as db, db.begin():
        db.execute(update(GatewayConfig).values(enabled=False))
    shopper.add("TEA-1", 1)
    shopper.details()
    res = shopper.get("/payment")
    assert "takes no payment online" in text_of(res) and not res.html.select("input[type=radio]")
    shopper.form(res, "/checkout/payment").submit(status=303)
    res = shopper.place(status=303).follow()
    assert TEXT["en"]["thanks"] in text_of(res) and not res.html.select(".pay-now")
    assert [o.total_minor for o in store.orders()] == [1250]


def test_the_embedded_default_sqlite_store(sqlite_settings, sqlite_control):
    """The demo path: control DB and store in SQLite files, the same pages."""
    tenant = Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug="corner-shop", name="Corner Shop")
    )
    seed(sqlite_control, tenant)
    store = Store(sqlite_control, Shop(tenant))
    add_gateways(store)
    shopper = Shopper(TestApp(make_app(sqlite_settings, control=sqlite_control)), store)
    shopper.through_review(qty=2, method="cod")
    res = shopper.place(status=303).follow()
    assert TEXT["en"]["thanks"] in text_of(res) and "Corner Shop" in text_of(res)
    assert store.stock("TEA-1") == 8 and store.order_count() == 1
