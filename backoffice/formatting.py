"""Dates, numbers and money in the reader's language and the store's timezone (Babel).

Money is integer minor units next to an ISO currency; the number of decimals
comes from Babel's currency data (JPY has none, KWD three). Pages format
hundreds of amounts and dates: two speedups prepare what Babel looks up per
call once per locale (and currency), ``backoffice.speedups.money_format`` and
``backoffice.speedups.date_format``; with them off, every value goes through
Babel's ``format_currency`` and ``format_datetime``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
)

from backoffice.speedups import date_format, money_format

NAMED_FORMATS = ("short", "medium", "long", "full")


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=256)
def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


@lru_cache(maxsize=128)
def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return get_timezone("UTC")


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_digits(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    return int((amount.scaleb(minor_digits(currency))).to_integral_value())


class Formatter:
    """*fast_money* and *fast_dates*: whether the two speedups are on."""

    def __init__(
        self,
        locale: str,
        timezone: str = "UTC",
        *,
        fast_money: bool = True,
        fast_dates: bool = True,
    ):
        self.locale = _locale(locale)
        self._locale_name = str(self.locale)
        self.tz = _zone(timezone)
        self._symbols: dict[str, str] = {}
        self._fast_money, self._fast_dates = fast_money, fast_dates

    def money(self, minor: int | None, currency: str) -> str:
        if minor is None:
            return ""
        fast = money_format.money_format(self._locale_name, currency) if self._fast_money else None
        if fast is not None:
            return fast(minor)
        value = Decimal(minor).scaleb(-minor_digits(currency))
        return format_currency(value, currency, locale=self.locale)

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
        if format in NAMED_FORMATS and self._fast_dates:
            return date_format.named_format(self._locale_name, format)(self.local(moment))
        return format_datetime(self.local(moment), format=format, locale=self.locale)

    def short_datetime(self, moment: datetime | None) -> str:
        return self.datetime(moment, "short")

    def datetimes(self, format: str = "medium") -> Callable[[datetime | None], str]:
        """``self.datetime`` with *format* fixed, for a page that formats many
        (a list's rows): the named format and the zone are looked up once."""
        if format not in NAMED_FORMATS or not self._fast_dates:
            return lambda moment: self.datetime(moment, format)
        named, zone = date_format.named_format(self._locale_name, format), self.tz

        def formatted(moment: datetime | None) -> str:
            if moment is None:
                return ""
            return named(moment.replace(tzinfo=UTC).astimezone(zone))

        return formatted

    def language(self, code: str | None) -> str:
        """The name of a language in the reader's language ("ru" -> "Russian")."""
        try:
            name = _locale(code or "").get_display_name(self.locale)
        except (ValueError, TypeError, UnknownLocaleError):
            name = None
        return name[:1].upper() + name[1:] if name else (code or "")

    def date(self, day: date | None, format: str = "medium") -> str:
        return format_date(day, format=format, locale=self.locale) if day else ""


def request_formatter_factory(settings: Mapping[str, str]) -> Callable:
    """``request.fmt``'s factory, with the two speedups as *settings* have them."""
    fast = {
        "fast_money": money_format.SPEEDUP.on(settings),
        "fast_dates": date_format.SPEEDUP.on(settings),
    }

    def request_formatter(request) -> Formatter:
        config = request.store_config if request.tenant else None
        return Formatter(request.locale_name, config.timezone if config else "UTC", **fast)

    return request_formatter
