"""The formatter's prepared patterns write exactly what Babel's own helpers write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_datetime
from babel.numbers import format_currency, get_currency_precision

from backoffice.formatting import Formatter

LOCALES = ("en", "ru", "uk", "de", "fr", "hi", "ja", "ar", "en_IN", "de_CH")
CURRENCIES = ("EUR", "UAH", "USD", "RUB", "GBP", "CHF", "INR", "JPY", "KWD")
AMOUNTS = (0, 1, -1, 5, 99, 100, 12345, -12345, 100_000, 123_456_789, -10**15 - 7)
ZONES = ("UTC", "Europe/Kyiv", "America/New_York", "Asia/Kolkata")
# Every hour of a year (both DST changes of Kyiv and New York), each minute of the hour.
MOMENTS = [datetime(2024, 1, 1, 0, 0, 7) + timedelta(hours=h, minutes=h % 60)
           for h in range(0, 366 * 24, 23)]


@pytest.mark.parametrize("locale", LOCALES)
def test_money_is_babels_currency_format(locale):
    fmt = Formatter(locale)
    for currency in CURRENCIES:
        for minor in AMOUNTS:
            value = Decimal(minor).scaleb(-get_currency_precision(currency))
            assert fmt.money(minor, currency) == format_currency(value, currency,
                                                                 locale=locale), (currency, minor)


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
                local, format=format, locale=locale), (zone, moment)


def test_short_datetime_and_custom_pattern():
    fmt = Formatter("uk", "Europe/Kyiv")
    moment = datetime(2024, 7, 1, 9, 5)
    assert fmt.short_datetime(moment) == fmt.datetime(moment, "short") == "01.07.24, 12:05"
    assert fmt.datetime(moment, "yyyy-MM-dd HH:mm") == "2024-07-01 12:05"
    assert fmt.datetime(None) == ""
