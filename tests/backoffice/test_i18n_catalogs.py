"""The ru and uk catalogs are complete, current and safe to interpolate.

For the ``backoffice`` domain and, once it has a ``locale`` directory, the
``storefront`` domain: every message of the sources (extracted the way
``make translations-update`` does) is in each catalog, translated, not fuzzy,
with the placeholders of the English text and every plural form filled in.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from pyramid import testing
from pyramid.i18n import TranslationString, make_localizer

from backoffice.speedups.template_gettext import TemplateGetText
from backoffice.translations import compile_catalogs
from payments.registry import BUILTIN_GATEWAYS, GatewayRegistry

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("ru", "uk")
DOMAINS = [d for d in ("backoffice", "storefront") if (ROOT / d / "locale").is_dir()]
# ${name} (Pyramid), %(name)s (Jinja {% trans %}), {name} / {seq:06d} (str.format).
PLACEHOLDER = re.compile(r"\$\{\w+\}|%\(\w+\)[sdif]|\{\w*(?::[^{}]*)?\}")

CATALOGS = [pytest.param(d, loc, id=f"{d}-{loc}") for d in DOMAINS for loc in LOCALES]
# The back office's catalogs also hold the payment gateways' texts: titles, labels,
# help texts and messages stay English in payments/, marked with N_ (Makefile).
SOURCES = {"backoffice": ("backoffice", "payments"), "storefront": ("storefront",)}


def catalog_path(domain: str, locale: str) -> Path:
    return ROOT / domain / "locale" / locale / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(domain: str, locale: str):
    path = catalog_path(domain, locale)
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=domain)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def messages(catalog):
    return [m for m in catalog if m.id]


def source_messages(domain: str) -> set:
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found = set()
    for directory in SOURCES[domain]:
        # N_ is one of Babel's default keywords (the Makefile names it anyway).
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map, options_map
        ):
            found.add(message if isinstance(message, str) else tuple(message[:2]))
    return found


def catalog_key(message):
    return message.id if isinstance(message.id, str) else tuple(message.id)


def test_the_checks_see_placeholders():
    assert placeholders("Order ${number} is “${status}”") == ["${number}", "${status}"]
    assert placeholders("%(count)s orders, {seq:06d}") == ["%(count)s", "{seq:06d}"]
    assert placeholders("plain text") == []


@pytest.mark.parametrize(("domain", "locale"), CATALOGS)
def test_every_message_is_translated(domain, locale):
    catalog = read_catalog(domain, locale)
    assert catalog.num_plurals == 3, "ru and uk have three plural forms"
    problems = []
    for message in messages(catalog):
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        strings = message.string if message.pluralizable else (message.string,)
        if message.pluralizable and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms: {message.id!r}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {message.id!r}")
            continue
        english = message.id[-1] if message.pluralizable else message.id
        for text in strings:
            if placeholders(text) != placeholders(english):
                problems.append(
                    f"placeholders {placeholders(text)} != "
                    f"{placeholders(english)}: {message.id!r} -> {text!r}"
                )
    assert messages(catalog), "an empty catalog"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("domain", "locale"), CATALOGS)
def test_catalog_passes_babel_checks(domain, locale):
    catalog = read_catalog(domain, locale)
    errors = [
        f"{message.id!r}: {'; '.join(map(str, errs))}" for message, errs in catalog.check() if errs
    ]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(("domain", "locale"), CATALOGS)
def test_catalog_holds_every_message_of_the_sources(domain, locale):
    in_catalog = {catalog_key(m) for m in messages(read_catalog(domain, locale))}
    missing = source_messages(domain) - in_catalog
    assert not missing, "run `make translations-update` and translate: " + ", ".join(
        sorted(map(repr, missing))
    )


def test_the_backoffice_sources_are_extracted():
    found = source_messages("backoffice")
    # A Python view, a template, a {% trans %} block and a plural.
    assert "Another product already has this SKU." in found
    assert "Filter orders" in found
    assert "Customer since %(date)s" in found
    assert ("%(count)s order", "%(count)s orders") in found
    # A gateway's title, a setting's label and help text, a validation message.
    assert "Test card payments (demo)" in found
    assert "Hosted test page URL" in found
    assert "Must match the setting in the Robokassa cabinet." in found
    assert "Must be an http(s) URL." in found


def test_every_text_of_the_shipped_gateways_is_extracted():
    gateways = GatewayRegistry(list)  # the built-in ones only, no installed plugin
    texts = set()
    for name in BUILTIN_GATEWAYS:
        gateway = gateways.get(name)
        texts.add(gateway.title)
        texts.update(
            text for field in gateway.config_schema for text in (field.label, field.help) if text
        )
    missing = texts - source_messages("backoffice")
    assert not missing, "mark them with N_(...) in payments/: " + ", ".join(sorted(missing))


def test_compiled_catalogs_pluralise_and_interpolate(tmp_path):
    for locale in LOCALES:
        target = tmp_path / locale / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(catalog_path("backoffice", locale), target)
    built = compile_catalogs(tmp_path, "backoffice")
    assert sorted(p.parent.parent.name for p in built) == ["ru", "uk"]
    ru = make_localizer("ru", [str(tmp_path)])
    uk = make_localizer("uk", [str(tmp_path)])
    forms = ("%(count)s order", "%(count)s orders")
    assert [ru.pluralize(*forms, n, domain="backoffice") % {"count": n} for n in (1, 3, 5, 21)] == [
        "1 заказ",
        "3 заказа",
        "5 заказов",
        "21 заказ",
    ]
    assert [uk.pluralize(*forms, n, domain="backoffice") % {"count": n} for n in (1, 2, 11)] == [
        "1 замовлення",
        "2 замовлення",
        "11 замовлень",
    ]
    assert ru.translate("Orders", domain="backoffice") == "Заказы"
    assert uk.translate("Orders", domain="backoffice") == "Замовлення"
    assert compile_catalogs(tmp_path, "backoffice") == [], "fresh .mo files are kept"


def test_templates_gettext_remembers_plain_labels_per_language():
    """Templates' ``_()`` (``TemplateGetText``) answers what Pyramid's localizer
    answers, per language and domain, and remembers only plain messages."""
    dirs = [str(ROOT / d / "locale") for d in DOMAINS]
    localizers = {loc: make_localizer(loc, dirs) for loc in ("en", "ru", "uk")}
    gettext = TemplateGetText(domain="backoffice")
    request = testing.DummyRequest()
    testing.setUp(request=request)
    try:
        for _ in range(2):  # the second round answers from the memo
            for localizer in localizers.values():
                request.localizer = localizer
                for message in ("Orders", "Sign out", "Not a message in any catalog"):
                    assert gettext.gettext(message) == localizer.translate(
                        message, domain="backoffice"
                    )
        request.localizer = localizers["ru"]
        assert gettext.gettext("Orders") == "Заказы"
        assert TemplateGetText(domain="storefront").gettext("Orders") == "Orders"  # its domain
        memo = TemplateGetText._memos[localizers["ru"]]
        assert ("backoffice", "Orders") in memo
        assert gettext.gettext("At most ${n} characters.", {"n": 3}) == "Не больше 3 символов."
        ts = TranslationString("At most ${n} characters.", domain="backoffice", mapping={"n": 4})
        assert gettext.gettext(ts) == "Не больше 4 символов."
        assert not any(key[1].startswith("At most") for key in memo)
    finally:
        testing.tearDown()
