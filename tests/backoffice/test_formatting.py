"""The formatter's prepared formats write exactly what Babel's own helpers write."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from babel import localedata
from babel.dates import format_datetime
from babel.numbers import format_currency, get_currency_precision

from backoffice.formatting import Formatter
from backoffice.speedups.date_format import MEMO_SIZE
from backoffice.speedups.date_format import named_format as _named_format
from backoffice.speedups.money_format import money_format as _money_format

LOCALES = ("en", "ru", "uk", "de", "fr", "hi", "ja", "ar", "en_IN", "de_CH")
CURRENCIES = ("EUR", "UAH", "USD", "RUB", "GBP", "CHF", "INR", "JPY", "KWD")
AMOUNTS = (0, 1, -1, 5, 99, 100, 12345, -12345, 100_000, 123_456_789, -(10**15) - 7)
ZONES = ("UTC", "Europe/Kyiv", "America/New_York", "Asia/Kolkata")
# Every hour of a year (both DST changes of Kyiv and New York), each minute of the hour.
MOMENTS = [
    datetime(2024, 1, 1, 0, 0, 7) + timedelta(hours=h, minutes=h % 60)
    for h in range(0, 366 * 24, 23)
]


@pytest.mark.parametrize("locale", LOCALES)
def test_money_is_babels_currency_format(locale):
    fmt = Formatter(locale)
    for currency in CURRENCIES:
        for minor in AMOUNTS:
            value = Decimal(minor).scaleb(-get_currency_precision(currency))
            assert fmt.money(minor, currency) == format_currency(value, currency, locale=locale), (
                currency,
                minor,
            )


def test_money_of_nothing_is_empty():
    assert Formatter("en").money(None, "EUR") == ""


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("format", ["short", "medium", "long", "full"])
def test_datetime_is_babels_named_format(locale, format):
    for zone in ZONES:
        fmt = Formatter(locale, zone)
        for moment in MOMENTS:
            local = moment.replace(tzinfo=UTC).astimezone(fmt.tz)
            assert fmt.datetime(moment, format) == format_datetime(
                local, format=format, locale=locale
            ), (zone, moment)


@pytest.mark.parametrize("format", ["short", "medium", "full", "yyyy-MM-dd HH:mm"])
def test_datetimes_is_datetime_with_the_format_fixed(format):
    for locale in ("en", "uk", "ja"):
        for zone in ZONES:
            fmt = Formatter(locale, zone)
            many = fmt.datetimes(format)
            assert [many(m) for m in MOMENTS] == [fmt.datetime(m, format) for m in MOMENTS]
            assert many(None) == ""


def test_short_datetime_and_custom_pattern():
    fmt = Formatter("uk", "Europe/Kyiv")
    moment = datetime(2024, 7, 1, 9, 5)
    assert fmt.short_datetime(moment) == fmt.datetime(moment, "short") == "01.07.24, 12:05"
    assert fmt.datetime(moment, "yyyy-MM-dd HH:mm") == "2024-07-01 12:05"
    assert fmt.datetime(None) == ""


def test_money_in_every_locale_babel_knows():
    """The prepared money format (grouping, symbols, prefix and suffix per sign)
    against Babel itself, in all of Babel's locales that have a currency pattern."""
    rng = random.Random(7)
    amounts = (*AMOUNTS, *(rng.randrange(-(10**12), 10**12) for _ in range(8)))
    prepared = 0
    for locale in localedata.locale_identifiers():
        fmt = Formatter(locale)
        if "standard" not in fmt.locale.currency_formats:
            continue
        for currency in ("EUR", "JPY", "KWD", "INR"):
            prepared += _money_format(str(fmt.locale), currency) is not None
            for minor in amounts:
                value = Decimal(minor).scaleb(-get_currency_precision(currency))
                assert fmt.money(minor, currency) == format_currency(
                    value, currency, locale=locale
                ), (locale, currency, minor)
    assert prepared > 2000  # the fast path, not the fallback, is what was compared


def test_remembered_parts_stay_bounded():
    fmt = Formatter("en", "UTC")
    start = datetime(2020, 1, 1)
    for minute in range(0, MEMO_SIZE * 3, 7):
        moment = start + timedelta(minutes=minute * 61)
        assert fmt.short_datetime(moment) == format_datetime(
            moment.replace(tzinfo=UTC), format="short", locale="en"
        )
    named = _named_format("en", "short")
    assert 0 < len(named.date.memo) <= MEMO_SIZE and 0 < len(named.time.memo) <= MEMO_SIZE
    assert _named_format("en", "full").time.key is None  # a zone name: never remembered
