"""What goes wrong on the hosted checkout, and what the shopper sees (WebTest, MariaDB):
double submits, stock running out, a suspended store, tampered links, guessed order
URLs, hostile names and forged forms."""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import update

from backoffice.config import make_app
from backoffice.models import Product
from storefront.checkout.carts import cart_key, sign_cart
from tenancy.models import Tenant
from tests.browser import live_server
from tests.storefront.checkout_fixtures import *  # noqa: F403  (fixtures, found by name)
from tests.storefront.checkout_fixtures import (
    DETAILS,
    LANGS,
    TEXT,
    Shopper,
    Store,
    add_gateways,
    text_of,
)
from tests.storefront.conftest import Shop, add_key, seed


def test_submitting_twice_makes_one_order(shopper, store):
    form = shopper.form(shopper.through_review(qty=3), "/checkout/place")
    first = form.submit(status=303)
    again = form.submit(status=303)  # the double click, or the reload of the POST
    assert first.location == again.location and "/checkout/order/" in first.location
    assert store.order_count() == 1 and store.stock("TEA-1") == 7
    # The review page is gone with the cart; the order page stays.
    assert shopper.get("/review", status=303).location.endswith("/checkout")
    assert TEXT["en"]["empty"] in text_of(shopper.get())
    assert shopper.app.get(first.location).status_int == 200


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def place_at_once(app, shoppers: list[Shopper], copies: int = 1) -> list[tuple[int, str]]:
    """Every shopper's "place order" form, ``copies`` times each, sent at the same moment
    to the app served by waitress; returns (status, Location) of each answer."""
    posts = []
    for shopper in shoppers:
        form = shopper.form(shopper.review(), "/checkout/place")
        body = urllib.parse.urlencode(form.submit_fields()).encode()
        cookie = "; ".join(f"{c.name}={c.value}" for c in shopper.app.cookiejar)
        posts += [(shopper.url("/place"), body, cookie)] * copies
    answers, barrier = [], threading.Barrier(len(posts))
    opener = urllib.request.build_opener(NoRedirect)

    def submit(base, path, body, cookie):
        request = urllib.request.Request(
            f"{base}{path}",
            data=body,
            method="POST",
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        barrier.wait()
        try:
            with opener.open(request, timeout=30) as response:
                answers.append((response.status, ""))
        except urllib.error.HTTPError as exc:
            answers.append((exc.code, exc.headers.get("Location", "")))

    with live_server(app) as base:
        threads = [threading.Thread(target=submit, args=(base, *post)) for post in posts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    return answers


def test_two_simultaneous_submits_make_one_order(shopper, store, api_settings, control):
    shopper.through_review(qty=2)
    answers = place_at_once(make_app(api_settings, control=control), [shopper], copies=4)
    assert len(answers) == 4
    assert {code for code, _location in answers} == {303}
    assert len({location for _code, location in answers}) == 1
    assert store.order_count() == 1 and store.stock("TEA-1") == 8


def test_two_shoppers_and_the_last_item(checkout_app, store, api_settings, control):
    shoppers = [Shopper(type(checkout_app)(checkout_app.app), store) for _ in range(2)]
    for shopper in shoppers:
        shopper.through_review("TEA-2", qty=1)  # one in stock, both see it available
    answers = place_at_once(make_app(api_settings, control=control), shoppers)
    assert sorted(code for code, _location in answers) == [303, 409]
    assert store.order_count() == 1 and store.stock("TEA-2") == 0


@pytest.mark.parametrize("lang", LANGS)
def test_out_of_stock_says_why_and_keeps_everything(shopper, store, lang):
    t = TEXT[lang]
    review = shopper.through_review(qty=2, lang=lang)
    store.set_stock("TEA-1", 1)  # someone else bought them meanwhile
    res = shopper.form(review, "/checkout/place").submit(status=409)
    page = text_of(res)
    assert t["out_of_stock"] in page and t["in_stock_1"] in page
    assert store.order_count() == 0 and store.stock("TEA-1") == 1
    details = shopper.get("/details").html
    for name in ("name", "email", "address", "city", "postcode", "phone"):
        assert (
            details.select_one(f"#f-{name}")["value"] == DETAILS[name].lower()
            if (name == "email")
            else DETAILS[name]
        )
    assert details.select_one("#f-comment").get_text() == DETAILS["comment"]
    cart = shopper.get()
    assert cart.html.select_one("input[name='qty.TEA-1']")["value"] == "2"
    assert t["in_stock_1"] in text_of(cart)
    # Fewer, and the order goes through with everything entered before.
    form = shopper.form(cart, "/checkout/update")
    form["qty.TEA-1"] = "1"
    form.submit(status=303)
    res = shopper.place(status=303).follow()
    assert t["thanks"] in text_of(res)
    [order] = store.orders()
    assert order.total_minor == 1250 and order.customer_name == DETAILS["name"]
    assert store.stock("TEA-1") == 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_price_change_after_review_is_shown_before_ordering(shopper, store, lang):
    review = shopper.through_review(qty=1, lang=lang)
    store.execute(update(Product).where(Product.sku == "TEA-1").values(price_minor=1500))
    res = shopper.form(review, "/checkout/place").submit(status=409)
    assert TEXT[lang]["prices_changed"] in text_of(res)
    assert res.html.select_one("[data-total]")["data-total"] == "1500"
    assert store.order_count() == 0 and store.stock("TEA-1") == 10
    shopper.form(res, "/checkout/place").submit(status=303)
    assert [o.total_minor for o in store.orders()] == [1500]


@pytest.mark.parametrize("lang", LANGS)
def test_a_suspended_store_takes_no_order_and_loses_nothing(shopper, store, control, lang):
    t = TEXT[lang]
    review = shopper.through_review(qty=2, lang=lang)
    directory = shopper.app.app.registry.directory

    def set_status(status: str) -> None:
        with control.session() as session, session.begin():
            session.execute(
                update(Tenant).where(Tenant.id == store.tenant.id).values(status=status)
            )

    # Suspended while the router still has the store cached as active: the order
    # step reads the status itself.
    set_status("suspended")
    res = shopper.form(review, "/checkout/place").submit(status=503)
    assert t["closed"] in text_of(res)
    assert store.order_count() == 0 and store.stock("TEA-1") == 10
    # Once the router knows, every page says so.
    directory.invalidate()
    res = shopper.get("/review", status=403, headers={"Accept-Language": lang})
    assert t["suspended"] in text_of(res)
    # Back in business: the cart and the details are all still there.
    set_status("active")
    directory.invalidate()
    review = shopper.review()
    assert "ann@example.com" in text_of(review) and t["bank"] in text_of(review)
    shopper.form(review, "/checkout/place").submit(status=303)
    assert store.order_count() == 1 and store.stock("TEA-1") == 8


@pytest.mark.parametrize("lang", LANGS)
def test_tampered_foreign_and_expired_cart_links_are_refused(
    shopper, store, control, make_store, lang
):
    key = add_key(control, store.tenant, "site", ["write"])
    api = {"Host": store.shop.host, "Authorization": f"Bearer {key}"}
    token = shopper.app.post_json(
        "/api/v1/carts", {"lines": [{"sku": "TEA-2", "quantity": 1}]}, headers=api, status=201
    ).json["token"]
    body, mac = token.split(".")
    other = make_store()
    seed(control, other)
    registry = shopper.app.app.registry
    foreign = sign_cart(
        cart_key(registry.cart_secret, other.id),
        other.id,
        [("TEA-1", 1)],
        expires=int(time.time()) + 600,
    )
    expired = sign_cart(
        cart_key(registry.cart_secret, store.tenant.id),
        store.tenant.id,
        [("TEA-1", 1)],
        expires=int(time.time()) - 1,
    )
    # A token signed with store A's key but naming store B is still store A's key: refused.
    renamed = sign_cart(
        cart_key(registry.cart_secret, store.tenant.id),
        other.id,
        [("TEA-1", 1)],
        expires=int(time.time()) + 600,
    )
    tampered = [
        body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac,
        body + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),
        body,
        "x.y",
        foreign,
        expired,
        renamed,
        "." * 5000,
    ]
    shopper.get(params={"lang": lang})
    for bad in tampered:
        res = shopper.get(f"/c/{bad}", status=400)
        assert TEXT[lang]["bad_link"] in text_of(res)
    assert store.checkouts() == []
    assert shopper.get(f"/c/{token}", status=303)  # the genuine one still works
    assert [c.lines for c in store.checkouts()] == [[{"sku": "TEA-2", "quantity": 1}]]


def test_api_refuses_carts_of_unknown_products(shopper, store, control):
    key = add_key(control, store.tenant, "site", ["read"])
    headers = {"Host": store.shop.host, "Authorization": f"Bearer {key}"}
    shopper.app.post_json(
        "/api/v1/carts", {"lines": [{"sku": "TEA-1", "quantity": 1}]}, headers=headers, status=403
    )  # the read scope cannot
    write = add_key(control, store.tenant, "site", ["write"])
    headers["Authorization"] = f"Bearer {write}"
    res = shopper.app.post_json(
        "/api/v1/carts",
        {"lines": [{"sku": "TEA-1", "quantity": 1}, {"sku": "OLD-1", "quantity": 1}]},
        headers=headers,
        status=422,
    )
    assert res.json["error"]["details"] == {"skus": ["OLD-1"]}
    res = shopper.app.post_json(
        "/api/v1/carts",
        {"lines": [{"sku": "TEA-1", "quantity": 0}], "expires_in": 5},
        headers=headers,
        status=422,
    )
    assert {f["field"] for f in res.json["error"]["details"]["fields"]} == {
        "lines/0/quantity",
        "expires_in",
    }


@pytest.mark.parametrize("lang", LANGS)
def test_order_pages_cannot_be_guessed(shopper, store, control, make_store, lang):
    res = shopper.through_review(qty=1)
    url = shopper.form(res, "/checkout/place").submit(status=303).location
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 32 and secrets.compare_digest(token, store.orders()[0].status_token)
    # A store's order on another store's address is no order at all.
    other = Store(control, Shop(make_store()))
    seed(control, other.tenant)
    guesses = [
        secrets.token_urlsafe(24),
        token[:-1],
        token.upper(),
        token.lower(),
        token + "x",
        "1",
        "x" * 70,
        "%00",
    ]
    for guess in guesses:
        res = shopper.get(f"/order/{guess}", status=404, params={"lang": lang})
        assert TEXT[lang]["order_missing"] in text_of(res)
        shopper.get(f"/order/{guess}/pay", status=404)
    shopper.get("/order/..%2f..%2fadmin", status=404)
    shopper.app.get(f"{other.prefix}/checkout/order/{token}", status=404)
    assert shopper.app.get(url).status_int == 200


def test_hostile_names_are_shown_as_text(checkout_app, control, make_store):
    tenant = make_store(name='Tea <b onmouseover="x()">&</b> Co')
    seed(
        control,
        tenant,
        products=[
            {
                "sku": "XSS-1",
                "name": "<script>alert('p')</script>",
                "price_minor": 100,
                "stock": 5,
                "is_active": True,
            }
        ],
    )
    store = Store(control, Shop(tenant))
    add_gateways(store)
    shopper = Shopper(checkout_app, store)
    hostile = '<img src=x onerror="alert(1)">'
    shopper.add("XSS-1", 1)
    res = shopper.details(
        status=422, name=hostile, comment="</textarea><script>x()</script>", email=""
    )
    assert "<img src=x" not in res.text and "</textarea><script>" not in res.text
    assert res.html.select_one("#f-name")["value"] == hostile
    shopper.details(name=hostile, comment="</textarea><script>x()</script>")
    shopper.choose("manual")
    pages = [shopper.get(), shopper.review()]
    pages.append(shopper.place(status=303).follow())
    for page in pages:
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "<b onmouseover" not in page.text
        assert "&lt;script&gt;alert(&#39;p&#39;)&lt;/script&gt;" in page.text
        assert page.html.select_one(".brand-name").get_text() == tenant.name
    assert hostile in text_of(pages[-1]) and hostile in text_of(pages[1])


@pytest.mark.parametrize("lang", LANGS)
def test_forms_without_the_csrf_token_are_refused(shopper, store, lang):
    shopper.through_review(qty=1, lang=lang)
    for path, fields in (
        ("/details", DETAILS),
        ("/payment", {"method": "cod"}),
        ("/update", {"qty.TEA-1": "5"}),
        ("/place", {}),
    ):
        for token in (None, "forged"):
            params = dict(fields, **({"csrf_token": token} if token else {}))
            res = shopper.app.post(shopper.url(path), params, status=400)
            assert TEXT[lang]["csrf"] in text_of(res)
            assert res.html.select_one(".message a.btn")["href"].startswith(
                "http://localhost" + shopper.url()
            )
    assert store.order_count() == 0
    [checkout] = store.checkouts()
    assert checkout.payment_method == "manual" and checkout.lines[0]["quantity"] == 1


def test_pages_refuse_framing_and_inline_code(shopper):
    res = shopper.add("TEA-1", 1)
    assert res.headers["X-Frame-Options"] == "DENY"
    csp = res.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert "default-src 'none'" in csp
    assert res.headers["Referrer-Policy"] == "same-origin"


def test_steps_out_of_order_lead_back(shopper):
    assert shopper.get("/details", status=303).location.endswith("/checkout")
    assert shopper.get("/review", status=303).location.endswith("/checkout")
    shopper.add("TEA-1", 1)
    assert shopper.get("/payment", status=303).location.endswith("/checkout/details")
    shopper.details()
    assert shopper.get("/review", status=303).location.endswith("/checkout/payment")
    shopper.app.get(shopper.url("/place"), status=404)  # POST only
