"""Amounts of money as integer minor units of an ISO 4217 currency.

Floats never enter: providers send decimal strings ("500.00", "500.000000")
and a float round trip is how one cent goes missing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from the usual 2.
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"]
        + ["RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    "CLF": 4,
    "UYW": 4,
}
DEFAULT_EXPONENT = 2
# The largest amount in minor units (10 trillion dollars): every money column
# is a signed 64-bit integer, and sums of a few such amounts must fit too.
MAX_MINOR = 10**15
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


class CurrencyMismatch(ValueError):
    """Arithmetic or comparison between two different currencies."""


def exponent(currency: str) -> int:
    """Number of decimal digits of the currency's minor unit."""
    return _EXPONENTS.get(currency, DEFAULT_EXPONENT)


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units (cents, yen, fils)
    currency: str  # ISO 4217, upper case

    def __post_init__(self) -> None:
        # bool is an int subclass; True cents is always a bug.
        if type(self.amount) is not int:
            raise TypeError(f"amount must be int minor units, got {self.amount!r}")
        if not -MAX_MINOR <= self.amount <= MAX_MINOR:
            raise ValueError(f"amount out of range: {str(self.amount)[:40]}")
        if not isinstance(self.currency, str) or not _CURRENCY_RE.fullmatch(self.currency):
            raise ValueError(f"currency must be ISO 4217 upper case: {self.currency!r}")

    @classmethod
    def from_decimal(cls, value: str | Decimal | int, currency: str) -> Money:
        """Parse a major-unit amount exactly; refuse anything needing rounding.

        Trailing zeros beyond the exponent are accepted ("500.000000" is how
        Robokassa sends 500 RUB) but any non-zero extra digit is refused.
        """
        if isinstance(value, (float, bool)) or not isinstance(value, (str, Decimal, int)):
            raise TypeError(f"refusing {type(value).__name__} amount; use str or Decimal")
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        # "1e999999" would overflow scaleb below; "1e29" would overflow every
        # money column (signed 64-bit minor units): 10^15 minor units is plenty.
        if number.adjusted() >= 30 or abs(number.scaleb(exponent(currency))) > MAX_MINOR:
            raise ValueError(f"not a plausible amount: {str(value)[:40]!r}")
        minor = number.scaleb(exponent(currency))
        if minor != minor.to_integral_value():
            raise ValueError(
                f"{value!r} has more decimals than {currency} allows "
                f"({exponent(currency)}); refusing to round"
            )
        return cls(int(minor), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def format_plain(self) -> str:
        """Major units with exactly the currency's decimals: "500.00", "500"."""
        return f"{self.to_decimal():f}"

    def __str__(self) -> str:
        return f"{self.format_plain()} {self.currency}"

    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        checked = self._check(other)
        if checked is NotImplemented:
            return NotImplemented
        return Money(self.amount + checked.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        checked = self._check(other)
        if checked is NotImplemented:
            return NotImplemented
        return Money(self.amount - checked.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        checked = self._check(other)
        if checked is NotImplemented:
            return NotImplemented
        return self.amount < checked.amount
