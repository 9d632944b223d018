"""The shopper's forms: cart quantities, contact and delivery details, payment method.

Every message says what to do about the field it belongs to. Values are
trimmed and capped at the column sizes of ``orders``; what was typed is kept
(``values``) even when it is refused, so the page shows it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from babel import Locale

from storefront.checkout.carts import MAX_QUANTITY
from storefront.i18n import _

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()\-.]{5,40}$")
POSTCODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-]{1,11}$")
# Longest values kept; name, e-mail and phone match the orders table.
LIMITS = {
    "email": 254,
    "name": 200,
    "phone": 40,
    "address": 300,
    "city": 100,
    "postcode": 12,
    "country": 2,
    "comment": 1000,
}
DETAIL_FIELDS = tuple(LIMITS)
REQUIRED = {
    "email": _("Enter your e-mail address."),
    "name": _("Enter your full name."),
    "address": _("Enter the street and house number."),
    "city": _("Enter the city or town."),
    "postcode": _("Enter the postal code."),
    "country": _("Choose a country."),
}
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"})


@dataclass
class Checked:
    values: dict
    errors: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@lru_cache(maxsize=8)
def countries(locale: str) -> tuple[tuple[str, str], ...]:
    """(code, name in *locale*) for every country, sorted by name."""
    names = Locale.parse(locale).territories
    found = [
        (code, name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    ]
    return tuple(sorted(found, key=lambda item: item[1].casefold()))


def country_name(code: str, locale: str) -> str:
    return dict(countries(locale)).get(code, code)


def raw_details(params) -> dict:
    """What the shopper typed, trimmed and cut to size (kept even when refused)."""
    values = {}
    for name, limit in LIMITS.items():
        value = params.get(name) or ""
        value = value.strip() if isinstance(value, str) else ""
        # One line for everything but the comment; no control characters anywhere.
        value = "".join(
            ch for ch in value if ch.isprintable() or (name == "comment" and ch in "\n\t")
        )
        values[name] = value[: limit * 2]
    values["email"] = values["email"].lower()
    return values


def check_details(values: dict) -> Checked:
    checked = Checked(values=dict(values))
    errors = checked.errors
    for name, message in REQUIRED.items():
        if not values.get(name):
            errors[name] = message
    for name, limit in LIMITS.items():
        if name not in errors and len(values.get(name, "")) > limit:
            errors[name] = _("Use at most ${n} characters.", mapping={"n": limit})
    email, phone = values.get("email", ""), values.get("phone", "")
    if "email" not in errors and not EMAIL.match(email):
        errors["email"] = _("Enter an e-mail address like name@example.com.")
    if phone and "phone" not in errors and not PHONE.match(phone):
        errors["phone"] = _("Enter a phone number with digits, spaces and + ( ) - only.")
    postcode = values.get("postcode", "")
    if "postcode" not in errors and not POSTCODE.match(postcode):
        errors["postcode"] = _("Enter a postal code with letters, digits, spaces or hyphens.")
    if "country" not in errors and values.get("country") not in dict(countries("en")):
        errors["country"] = _("Choose a country.")
    return checked


def quantity(raw) -> int | None:
    """A whole number from 1 to MAX_QUANTITY, else None."""
    text = (raw or "").strip() if isinstance(raw, str) else ""
    if not text.isdigit() or len(text) > 4:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_QUANTITY else None


QUANTITY_ERROR = _("Enter a quantity from 1 to ${max}.", mapping={"max": MAX_QUANTITY})
