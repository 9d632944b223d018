"""The payment method pages in Russian and Ukrainian, the gateways' own texts included.

Titles, labels, help texts and validation messages are English in ``payments/``
(marked ``N_``); the back office translates them from its own catalogs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from payments.registry import GatewayRegistry

ROOT = Path(__file__).resolve().parents[3]
# Set up besides the sandbox of the ``shop`` fixture: a text field with a help text,
# a choice, a yes/no field and secrets.
CONFIGURED = {
    "manual": {"instructions": "IBAN UA00 0000 0000, {order_reference}, {amount}"},
    "robokassa": {"merchant_login": "tea-and-co", "password1": "p1", "password2": "p2"},
    "stripe": {"secret_key": "sk_test_1", "webhook_secret": "whsec_1"},
}
# Names of brands, the same in every language.
SAME_EVERYWHERE = {"Stripe", "PayPal"}


def translations(locale: str) -> dict[str, str]:
    path = ROOT / "backoffice" / "locale" / locale / "LC_MESSAGES" / "backoffice.po"
    with path.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale=locale) if m.id}


def label_of(page, name: str) -> str:
    label = page.html.find("label", attrs={"for": f"f-{name}"})
    if label is None:  # a checkbox sits inside its label
        label = page.html.find("input", attrs={"name": name}).find_parent("label")
    return label.get_text(strip=True)


def hint_of(page, name: str) -> str:
    return page.html.find(id=f"{name}-hint").get_text(strip=True)


@pytest.fixture
def configured(shop):
    for name, values in CONFIGURED.items():
        shop.configure(name, values, enabled=False)
    return ["sandbox", *CONFIGURED]


def test_russian_gateway_page_shows_translated_title_label_and_help(shop, owner):
    page = owner.get("/payments/sandbox", headers={"Accept-Language": "ru"})
    assert page.html.find("h1").get_text(strip=True) == "Тестовые оплаты картой (демо)"
    assert label_of(page, "page_url") == "URL тестовой платёжной страницы"
    assert hint_of(page, "page_url") == "Наша имитация страницы оплаты картой для этого магазина."
    assert label_of(page, "secret") == "Секрет для подписи"

    bad = owner.post(
        "/payments/sandbox",
        {"page_url": "ftp://x", "secret": ""},
        headers={"Accept-Language": "ru"},
        status=400,
    )
    assert "Нужен URL-адрес, начинающийся с http:// или https://." in bad.text
    assert "http(s) URL" not in bad.text


def test_ukrainian_gateway_page_shows_translated_title_label_and_help(shop, owner):
    page = owner.get("/payments/sandbox", headers={"Accept-Language": "uk"})
    assert page.html.find("h1").get_text(strip=True) == "Тестові оплати карткою (демо)"
    assert label_of(page, "page_url") == "URL тестової платіжної сторінки"
    assert hint_of(page, "page_url") == "Наша імітація сторінки оплати карткою для цього магазину."


@pytest.mark.parametrize("locale", ["ru", "uk"])
def test_no_english_text_of_a_configured_gateway_remains(configured, owner, locale):
    tr = translations(locale)
    gateways = GatewayRegistry()
    headers = {"Accept-Language": locale}
    listing = owner.get("/payments", headers=headers)
    for name in configured:
        gateway = gateways.get(name)
        row = listing.html.find("tr", attrs={"data-gateway": name})
        assert row.find("a").get_text(strip=True) == tr[gateway.title]

        page = owner.get(f"/payments/{name}", headers=headers)
        assert page.html.find("h1").get_text(strip=True) == tr[gateway.title]
        if gateway.title not in SAME_EVERYWHERE:
            assert gateway.title not in page.text
        for field in gateway.config_schema:
            assert label_of(page, field.name) == tr[field.label]
            assert field.label not in page.text, f"{name}.{field.name}"
            if field.help:
                assert hint_of(page, field.name) == tr[field.help]
                assert field.help not in page.text, f"{name}.{field.name}"


def test_flash_messages_name_the_gateway_in_the_readers_language(configured, owner):
    saved = owner.post(
        "/payments/manual",
        {"instructions": "IBAN UA00 0000 0000"},
        headers={"Accept-Language": "uk"},
        status=303,
    ).follow()
    assert "Банківський переказ" in saved.html.find(class_="flash").get_text()
    enabled = owner.post(
        "/payments/robokassa/enabled",
        {"enabled": "1"},
        headers={"Accept-Language": "ru"},
        status=303,
    ).follow()
    assert "Робокасса" in enabled.html.find(class_="flash").get_text()
