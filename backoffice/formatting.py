"""Dates, numbers and money in the reader's language and the store's timezone (Babel).

Money is integer minor units next to an ISO currency; the number of decimals
comes from Babel's currency data (JPY has none, KWD three). Pages format
hundreds of amounts and dates, so the patterns are prepared once per locale
(and currency): Babel's own ``apply`` then does the formatting, without the
lookups and parsing its ``format_*`` helpers repeat on every call.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import (
    DateTimePattern,
    format_date,
    format_datetime,
    get_date_format,
    get_datetime_format,
    get_time_format,
    get_timezone,
    parse_pattern,
)
from babel.numbers import (
    NumberPattern,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
)

NAMED_FORMATS = ("short", "medium", "long", "full")


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


@lru_cache(maxsize=512)
def _money_pattern(locale: str, currency: str) -> NumberPattern | None:
    """The locale's currency pattern with this currency's symbol and decimals in it.

    Babel's ``apply(..., currency=...)`` looks up the symbol, the name and the
    precision on every amount; None where the name is in the pattern (``¤¤¤``:
    its plural form depends on the amount).
    """
    parsed = _locale(locale)
    pattern = copy.copy(parsed.currency_formats["standard"])
    if any("¤¤¤" in part for part in pattern.prefix + pattern.suffix):
        return None
    symbol = get_currency_symbol(currency, locale=parsed)

    def fill(part: str) -> str:
        return part.replace("¤¤", currency.upper()).replace("¤", symbol)

    pattern.prefix = tuple(fill(part) for part in pattern.prefix)
    pattern.suffix = tuple(fill(part) for part in pattern.suffix)
    pattern.frac_prec = (minor_digits(currency),) * 2
    return pattern


@lru_cache(maxsize=64)
def _datetime_pattern(locale: str, format: str) -> DateTimePattern:
    """A named date-and-time format as one parsed pattern.

    ``format_datetime`` formats the time and the date separately and pastes them
    into the locale's glue ("{1}, {0}", "{1} 'at' {0}") on every call; the glue's
    quoted text means the same inside one pattern.
    """
    parsed = _locale(locale)
    glue = str(get_datetime_format(format, locale=parsed))
    return parse_pattern(glue.replace("{0}", get_time_format(format, locale=parsed).pattern)
                         .replace("{1}", get_date_format(format, locale=parsed).pattern))


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_digits(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    return int((amount.scaleb(minor_digits(currency))).to_integral_value())


class Formatter:
    def __init__(self, locale: str, timezone: str = "UTC"):
        self.locale = _locale(locale)
        self._locale_name = str(self.locale)
        self.tz = _zone(timezone)
        self._currency_pattern = self.locale.currency_formats["standard"]
        self._symbols: dict[str, str] = {}

    def money(self, minor: int | None, currency: str) -> str:
        if minor is None:
            return ""
        value = Decimal(minor).scaleb(-minor_digits(currency))
        pattern = _money_pattern(self._locale_name, currency)
        if pattern is None:
            return self._currency_pattern.apply(
                value, self.locale, currency=currency, currency_digits=True)
        return pattern.apply(value, self.locale)

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
        if format in NAMED_FORMATS:
            return _datetime_pattern(self._locale_name, format).apply(self.local(moment),
                                                                      self.locale)
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
