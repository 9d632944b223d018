"""Dates, numbers and money in the reader's language and the store's timezone (Babel).

Money is integer minor units next to an ISO currency; the number of decimals
comes from Babel's currency data (JPY has none, KWD three). Number patterns are
parsed once per formatter: pages format hundreds of amounts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_decimal, get_currency_precision, get_currency_symbol


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=128)
def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return get_timezone("UTC")


@lru_cache(maxsize=256)
def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_digits(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    return int((amount.scaleb(minor_digits(currency))).to_integral_value())


class Formatter:
    def __init__(self, locale: str, timezone: str = "UTC"):
        self.locale = _locale(locale)
        self.tz = _zone(timezone)
        self._currency_pattern = self.locale.currency_formats["standard"]
        self._symbols: dict[str, str] = {}

    def money(self, minor: int | None, currency: str) -> str:
        if minor is None:
            return ""
        digits = minor_digits(currency)
        value = Decimal(minor).scaleb(-digits)
        return self._currency_pattern.apply(
            value, self.locale, currency=currency, currency_digits=True)

    def currency_symbol(self, currency: str) -> str:
        if currency not in self._symbols:
            self._symbols[currency] = get_currency_symbol(currency, locale=self.locale)
        return self._symbols[currency]

    def number(self, value) -> str:
        return format_decimal(value, locale=self.locale)

    def local(self, moment: datetime) -> datetime:
        """Stored datetimes are naive UTC."""
        return moment.replace(tzinfo=UTC).astimezone(self.tz)

    def datetime(self, moment: datetime | None, format: str = "medium") -> str:
        if moment is None:
            return ""
        return format_datetime(self.local(moment), format=format, locale=self.locale)

    def short_datetime(self, moment: datetime | None) -> str:
        return self.datetime(moment, "short")

    def language(self, code: str | None) -> str:
        """The name of a language in the reader's language ("ru" -> "Russian")."""
        try:
            name = _locale(code or "").get_display_name(self.locale)
        except (ValueError, TypeError, UnknownLocaleError):
            name = None
        return name[:1].upper() + name[1:] if name else (code or "")

    def date(self, day: date | None, format: str = "medium") -> str:
        return format_date(day, format=format, locale=self.locale) if day else ""


def request_formatter(request) -> Formatter:
    config = request.store_config if request.tenant else None
    return Formatter(request.locale_name, config.timezone if config else "UTC")
