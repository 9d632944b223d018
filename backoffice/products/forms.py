from __future__ import annotations

import re

from backoffice.formatting import minor_digits, to_minor
from backoffice.i18n import _
from backoffice.ui.forms import Form

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")


def product_form(params, currency: str) -> Form:
    form = Form(params)
    sku = form.text("sku", required=True, max_length=64)
    if sku and not SKU.match(sku):
        form.error("sku", _("Use letters, digits, dots, dashes, slashes or underscores."))
    form.text("name", required=True, max_length=200)
    form.text("description", max_length=10000)
    price = form.decimal("price", places=minor_digits(currency))
    if price is not None and price > 10**9:
        form.error("price", _("The price is too large."))
    # Only a price that passed its checks is scaled: 1e999999 would overflow.
    good = price is not None and "price" not in form.errors
    form.data["price_minor"] = to_minor(price, currency) if good else 0
    form.integer("stock", minimum=0)
    if form.data["stock"] > 10**9:
        form.error("stock", _("The stock is too large."))
    form.flag("is_active")
    return form
