"""Small helpers for hand-written forms: parse the POST, collect errors per field.

Errors are translation strings; templates show them next to their field with
``aria-describedby`` and ``aria-invalid`` so screen readers announce them.
"""

from __future__ import annotations

import re
from decimal import Decimal

from backoffice.i18n import _
from backoffice.web.input import InputError, parse_decimal, parse_int

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Amounts typed into forms: plain decimals ("1e5" is no price) of at most 15
# digits before the point, far below what a 64-bit column holds once they become
# minor units; callers refuse smaller limits with their own message.
MAX_AMOUNT = Decimal(10**15)


class Form:
    def __init__(self, params, request=None):
        self.params = params
        self.data: dict = {}
        self.errors: dict = {}
        self.request = request

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str:
        value = (self.params.get(name) or "").strip()
        if required and not value:
            self.error(name, _("This field is required."))
        elif len(value) > max_length:
            self.error(name, _("At most ${n} characters.", mapping={"n": max_length}))
        self.data[name] = value
        return value

    def email(self, name: str = "email", *, required: bool = True) -> str:
        value = self.text(name, required=required, max_length=254).lower()
        if value and not EMAIL.match(value):
            self.error(name, _("Enter a valid e-mail address."))
        self.data[name] = value
        return value

    def choice(self, name: str, choices, *, default=None):
        value = self.params.get(name, default)
        if value not in choices:
            self.error(name, _("Choose one of the offered values."))
        self.data[name] = value
        return value

    def integer(self, name: str, *, minimum: int | None = None, default: int = 0) -> int:
        # ASCII digits, at most 18 (int() also reads "٣" and 5,000-digit strings).
        raw = (self.params.get(name) or "").strip()
        try:
            value = parse_int(raw) if raw else default
        except InputError:
            self.error(name, _("Enter a whole number."))
            value = default
        if minimum is not None and value < minimum:
            self.error(name, _("Must be at least ${n}.", mapping={"n": minimum}))
        self.data[name] = value
        return value

    def decimal(self, name: str, *, required: bool = True, places: int = 2) -> Decimal | None:
        raw = (self.params.get(name) or "").strip().replace(",", ".").replace(" ", "")
        value = None
        if not raw:
            if required:
                self.error(name, _("This field is required."))
        else:
            try:
                value = parse_decimal(raw, places=6, maximum=MAX_AMOUNT)
                if -value.as_tuple().exponent > places:
                    self.error(name, _("At most ${n} decimal places.", mapping={"n": places}))
            except InputError:
                self.error(name, _("Enter an amount such as 12.50."))
                value = None
        self.data[name] = value
        return value

    def flag(self, name: str) -> bool:
        value = self.params.get(name) in {"1", "on", "true", "yes"}
        self.data[name] = value
        return value
