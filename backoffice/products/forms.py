"""The product form: parses what was typed; the rules are ``products.services``'s."""

from __future__ import annotations

from backoffice.formatting import minor_digits, to_minor
from backoffice.products import services
from backoffice.ui.forms import Form

# The form asks for a price in the currency's main unit, the services keep minor units.
FORM_FIELD = {"price_minor": "price"}


def add_errors(form: Form, errors: dict) -> None:
    for name, message in errors.items():
        form.error(FORM_FIELD.get(name, name), message)


def product_form(params, currency: str) -> Form:
    form = Form(params)
    for name, most in services.TEXTS.items():
        form.text(name, required=name in services.REQUIRED, max_length=most)
    price = form.decimal("price", places=minor_digits(currency))
    if price is not None and price > services.MAX_PRICE:
        # Checked before scaling: 1e999999 would overflow.
        form.error("price", services.PRICE_TOO_LARGE)
    good = price is not None and "price" not in form.errors
    form.data["price_minor"] = to_minor(price, currency) if good else 0
    form.integer("stock", minimum=0)
    form.flag("is_active")
    add_errors(form, services.product_errors(form.data, currency))
    return form


def product_values(form: Form) -> dict:
    return {name: form.data[name] for name in services.FIELDS}
