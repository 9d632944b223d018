"""Dates, numbers and money in the reader's language and the store's timezone (Babel).

Money is integer minor units next to an ISO currency; the number of decimals
comes from Babel's currency data (JPY has none, KWD three). Pages format
hundreds of amounts and dates, so everything Babel looks up per call is
prepared once per locale (and currency): an amount is grouped digits between
the pattern's prefix and suffix (``MoneyFormat``), and a date-and-time is its
date part and its time part, each remembered (a page shows a few days and a
day has 1,440 minutes), pasted into the locale's glue as Babel does. Both are
tested to write exactly what Babel's ``format_currency`` and
``format_datetime`` write.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
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
    tokenize_pattern,
)
from babel.numbers import (
    NumberPattern,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

NAMED_FORMATS = ("short", "medium", "long", "full")
# Pattern fields whose text depends on nothing but the local date, or the local
# wall-clock time: such a part is remembered by that key. A time part with a
# zone name (long, full) is formatted each time.
DATE_FIELDS = frozenset("GyYuUQqMLlwWdDFgEec")
CLOCK_FIELDS = frozenset("hHkKmsabB")
MEMO_SIZE = 4096


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


@dataclass(frozen=True)
class MoneyFormat:
    """One locale's amounts in one currency, from integer minor units.

    What ``NumberPattern.apply`` does for a plain currency pattern with the
    currency's decimals, without the Decimal arithmetic and the symbol
    lookups it repeats on every amount.
    """

    prefixes: tuple[str, str]
    suffixes: tuple[str, str]
    group: str
    decimal: str
    grouping: tuple[int, int]
    min_int: int
    digits: int

    @classmethod
    def of(cls, pattern: NumberPattern, locale: Locale) -> MoneyFormat | None:
        """None where the pattern is not a plain one (scientific, significant
        digits, a scale, quoted text), which ``apply`` then formats."""
        texts = (*pattern.prefix, *pattern.suffix)
        group = get_group_symbol(locale, numbering_system="latn")
        decimal = get_decimal_symbol(locale, numbering_system="latn")
        if (
            pattern.exp_prec
            or pattern.scale
            or "@" in pattern.pattern
            or pattern.frac_prec[0] != pattern.frac_prec[1]
            or any("'" in t or "¤" in t for t in (*texts, group, decimal))
        ):
            return None
        return cls(
            tuple(pattern.prefix),
            tuple(pattern.suffix),
            group,
            decimal,
            tuple(pattern.grouping),
            pattern.int_prec[0],
            pattern.frac_prec[0],
        )

    def __call__(self, minor: int) -> str:
        negative = minor < 0
        whole, fraction = divmod(-minor if negative else minor, 10**self.digits)
        number = self._grouped(str(whole).rjust(self.min_int, "0"))
        if self.digits:
            number += self.decimal + str(fraction).rjust(self.digits, "0")
        return self.prefixes[negative] + number + self.suffixes[negative]

    def _grouped(self, digits: str) -> str:
        size, rest = self.grouping
        if len(digits) <= size:
            return digits
        tail = digits[-size:]
        digits = digits[:-size]
        while len(digits) > rest:
            tail = digits[-rest:] + self.group + tail
            digits = digits[:-rest]
        return digits + self.group + tail


@lru_cache(maxsize=512)
def _money_format(locale: str, currency: str) -> MoneyFormat | None:
    pattern = _money_pattern(locale, currency)
    return MoneyFormat.of(pattern, _locale(locale)) if pattern is not None else None


class _Part:
    """One part (date or time) of a named format, remembered by the fields it shows."""

    def __init__(self, pattern: DateTimePattern, locale: Locale):
        self.pattern, self.locale = pattern, locale
        fields = {token[1][0] for token in tokenize_pattern(pattern.pattern) if token[0] == "field"}
        if fields <= DATE_FIELDS:
            self.key = lambda moment: moment.toordinal()
        elif fields <= CLOCK_FIELDS:
            seconds = "s" in fields
            self.key = lambda moment: (moment.hour, moment.minute, moment.second if seconds else 0)
        else:
            self.key = None
        self.memo: dict = {}

    def __call__(self, moment: datetime) -> str:
        if self.key is None:
            return self.pattern.apply(moment, self.locale)
        key = self.key(moment)
        text = self.memo.get(key)
        if text is None:
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            text = self.memo[key] = self.pattern.apply(moment, self.locale)
        return text


class _NamedFormat:
    """``format_datetime(moment, format)``: the time and the date, each formatted
    on its own and pasted into the locale's glue, as Babel does."""

    def __init__(self, locale: Locale, format: str):
        self.glue = str(get_datetime_format(format, locale=locale)).replace("'", "")
        self.time = _Part(get_time_format(format, locale=locale), locale)
        self.date = _Part(get_date_format(format, locale=locale), locale)

    def __call__(self, moment: datetime) -> str:
        return self.glue.replace("{0}", self.time(moment)).replace("{1}", self.date(moment))


@lru_cache(maxsize=64)
def _named_format(locale: str, format: str) -> _NamedFormat:
    return _NamedFormat(_locale(locale), format)


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
        fast = _money_format(self._locale_name, currency)
        if fast is not None:
            return fast(minor)
        value = Decimal(minor).scaleb(-minor_digits(currency))
        pattern = _money_pattern(self._locale_name, currency)
        if pattern is None:
            return self._currency_pattern.apply(
                value, self.locale, currency=currency, currency_digits=True
            )
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
            return _named_format(self._locale_name, format)(self.local(moment))
        return format_datetime(self.local(moment), format=format, locale=self.locale)

    def short_datetime(self, moment: datetime | None) -> str:
        return self.datetime(moment, "short")

    def datetimes(self, format: str = "medium") -> Callable[[datetime | None], str]:
        """``self.datetime`` with *format* fixed, for a page that formats many
        (a list's rows): the named format and the zone are looked up once."""
        if format not in NAMED_FORMATS:
            return lambda moment: self.datetime(moment, format)
        named, zone = _named_format(self._locale_name, format), self.tz

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


def request_formatter(request) -> Formatter:
    config = request.store_config if request.tenant else None
    return Formatter(request.locale_name, config.timezone if config else "UTC")
