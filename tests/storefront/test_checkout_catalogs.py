"""The ``storefront`` catalogs: every message of the code and templates, translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "storefront" / "locale"
PLACEHOLDER = re.compile(r"\$\{\w+\}|%\(\w+\)s")
CYRILLIC = re.compile(r"[а-яіїєґё]", re.IGNORECASE)
# Names that stay as they are in every language.
SAME_EVERYWHERE = {"PayPal"}


def extracted() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    return {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT / "storefront"), method_map, options)
    }


def catalog(locale: str):
    with open(LOCALE / locale / "LC_MESSAGES" / "storefront.po", "rb") as fh:
        return read_po(fh, locale=locale)


def test_the_template_lists_every_message_in_the_code():
    with open(LOCALE / "storefront.pot", "rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert extracted() == template, "run `make translations-update` and translate"


@pytest.mark.parametrize("locale", ["ru", "uk"])
def test_every_message_is_translated_with_its_placeholders(locale):
    messages = [m for m in catalog(locale) if m.id]
    assert {m.id for m in messages} == extracted()
    for message in messages:
        assert message.string and not message.fuzzy, message.id
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(
            PLACEHOLDER.findall(message.id)
        ), message.id
        if message.id not in SAME_EVERYWHERE:
            assert CYRILLIC.search(message.string), f"{message.id!r} is not translated"


def test_ukrainian_is_not_russian():
    ru, uk = catalog("ru"), catalog("uk")
    same = [m.id for m in uk if m.id and m.string == ru[m.id].string and CYRILLIC.search(m.string)]
    # A few words are spelled alike ("Телефон", "Доставка"); whole sentences are not.
    assert all(len(ru[i].string.split()) <= 2 for i in same), same
