from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from babel.numbers import list_currencies

from backoffice.i18n import LOCALES, _
from backoffice.orders import numbers
from backoffice.orders.statuses import CODE, COLOUR
from backoffice.ui.forms import Form

MAX_NUMBER = numbers.MAX_LENGTH


@lru_cache(maxsize=1)
def timezones() -> list[str]:
    return sorted(available_timezones())


@lru_cache(maxsize=1)
def currencies() -> list[str]:
    return sorted(list_currencies())


def number_format_error(fmt: str):
    """None if ``fmt`` makes good order numbers from ``{seq}``, else the reason."""
    found = numbers.problem(fmt)
    if found is numbers.FormatProblem.TOO_LONG:
        return _("Order numbers must stay within ${n} characters.", mapping={"n": MAX_NUMBER})
    if found is numbers.FormatProblem.FIELDS:
        return _("Use {seq} exactly once, e.g. A-{seq:06d}.")
    return None


MAX_LOGO_URL = 500


def logo_url_error(url: str):
    """None if the checkout may show this logo: an https URL or a path on this site."""
    if not url or url.startswith("https://") or (url.startswith("/") and not url.startswith("//")):
        return None
    return _("Use an address that starts with https:// (or a path on this site, like /logo.png).")


def settings_form(params) -> Form:
    form = Form(params)
    form.text("name", required=True, max_length=200)
    form.choice("currency", currencies())
    form.choice("default_locale", LOCALES)
    form.choice("timezone", timezones())
    fmt = form.text("order_number_format", required=True, max_length=64)
    if fmt and (error := number_format_error(fmt)):
        form.error("order_number_format", error)
    logo = form.text("logo_url", max_length=MAX_LOGO_URL)
    if logo and (error := logo_url_error(logo)):
        form.error("logo_url", error)
    return form


def statuses_form(params, current: list[dict]) -> Form:
    """The whole table of statuses: edits of each row, removals and one new row."""
    form = Form(params)
    rows = []
    for row in current:
        code = row["code"]
        if params.get(f"remove.{code}") == "1":
            continue
        rows.append({"code": code, **_row(form, params, code)})
    new_code = (params.get("add.code") or "").strip().lower()
    if new_code:
        if not CODE.match(new_code):
            form.error("add.code", _("Codes use lower-case letters, digits and _."))
        elif any(r["code"] == new_code for r in current):
            form.error("add.code", _("This code is already used."))
        else:
            rows.append({"code": new_code, **_row(form, params, "add")})
    codes = {r["code"] for r in rows}
    for r in rows:
        r["next"] = [c for c in r["next"] if c in codes and c != r["code"]]
    form.data["statuses"] = rows
    form.data["removed"] = [r["code"] for r in current if r["code"] not in codes]
    return form


def _row(form: Form, params, key: str) -> dict:
    name = (params.get(f"{key}.name") or "").strip()
    if not name or len(name) > 40:
        form.error(f"{key}.name", _("A name needs 1 to 40 characters."))
    colour = params.get(f"{key}.colour") or ""
    if not COLOUR.match(colour):
        form.error(f"{key}.colour", _("Choose a colour like #1c7ed6."))
    raw_position = (params.get(f"{key}.position") or "0").strip()
    digits = raw_position.removeprefix("-")
    if digits.isascii() and digits.isdigit() and len(digits) <= 6:
        position = int(raw_position)
    else:  # "²" passes isdigit() and int() refuses it; 5,000 digits too
        form.error(f"{key}.position", _("Enter a whole number."))
        position = 0
    return {
        "name": name,
        "colour": colour,
        "position": position,
        "next": params.getall(f"{key}.next"),
    }
