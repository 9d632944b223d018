"""Filling the cart: a product link, a reseller page's form, a signed link from the API,
and the cart page itself (change quantities, remove lines)."""

from __future__ import annotations

import logging
import time

from pyramid.view import view_config

from storefront.checkout import services
from storefront.checkout.carts import MAX_LINES, CartTokenError, cart_key, verify_cart
from storefront.checkout.forms import LIMITS, QUANTITY_ERROR, quantity
from storefront.checkout.locale import SESSION_KEY as LOCALE_KEY
from storefront.checkout.views import T, flash, page, see_other
from storefront.i18n import LOCALES, _

log = logging.getLogger(__name__)
PREFILL = ("email", "name", "phone")


def cart_page(request, checkout, *, errors=None, typed=None) -> dict:
    cart = services.cart_of(request, checkout)
    if checkout is not None and cart.gone:
        services.drop_gone(checkout, cart)
        flash_now = request.localizer.translate(
            _("Some products are no longer sold and were removed from your cart.")
        )
    else:
        flash_now = None
    placed = services.current(request)
    last_order = None
    if placed is not None and placed.state == "placed" and placed.order_id:
        last_order = request.db.get(services.Order, placed.order_id)
    return page(
        request,
        "checkout.cart",
        cart=cart,
        errors=errors or {},
        typed=typed or {},
        removed_notice=flash_now,
        last_order=last_order,
    )


@view_config(route_name="checkout.cart", request_method="GET", renderer=T + "cart.html")
def cart(request):
    return cart_page(request, services.open_checkout(request))


@view_config(route_name="checkout.add", request_method="GET")
def add(request):
    """``/checkout/add?sku=TEA-1&qty=2``: the link a product page points at."""
    sku = (request.GET.get("sku") or "").strip()[:64]
    qty = quantity(request.GET.get("qty") or "1")
    if qty is None:
        flash(request, QUANTITY_ERROR, error=True)
    elif sku not in services.sellable(request.db, [sku]):
        flash(request, _("This product is not available."), error=True)
    else:
        checkout = services.open_or_start(request, "link")
        services.add_line(checkout, sku, qty)
    return see_other(request, "checkout.cart")


@view_config(route_name="checkout.cart_post", request_method="POST", require_csrf=False)
def cart_from_form(request):
    """A reseller page's form (``sku``/``qty`` pairs, optional e-mail, name, phone, lang).

    Cross-site by design, so no CSRF token: it only replaces the cart of the
    browser that sent it and places nothing; every later step is protected.
    """
    skus = request.POST.getall("sku")[:MAX_LINES]
    quantities = request.POST.getall("qty")
    wanted, refused = [], False
    for i, raw_sku in enumerate(skus):
        qty = quantity(quantities[i] if i < len(quantities) else "1")
        sku = raw_sku.strip()[:64]
        if qty is None or not sku:
            refused = True
        else:
            wanted.append((sku, qty))
    products = services.sellable(request.db, [sku for sku, _qty in wanted])
    lines = [(sku, qty) for sku, qty in wanted if sku in products]
    if refused or len(lines) < len(wanted) or not lines:
        flash(request, _("Some products could not be added to your cart."), error=True)
    if lines:
        checkout = services.start(request, "form")
        services.set_lines(checkout, lines)
        prefill = {k: (request.POST.get(k) or "").strip()[: LIMITS[k]] for k in PREFILL}
        if any(prefill.values()):
            checkout.details = {**prefill, "email": prefill["email"].lower()}
    if request.POST.get("lang") in LOCALES:
        request.session[LOCALE_KEY] = request.POST["lang"]
    return see_other(request, "checkout.cart")


@view_config(route_name="checkout.cart_token", request_method="GET", renderer=T + "message.html")
def cart_from_token(request):
    """``/checkout/c/<token>``: a cart signed by the store (``POST /api/v1/carts``)."""
    key = cart_key(request.registry.cart_secret, request.tenant.id)
    try:
        token = verify_cart(key, request.tenant.id, request.matchdict["token"], time.time())
    except CartTokenError as exc:
        log.info("cart link refused: %s", exc)
        request.response.status = 400
        return page(
            request,
            None,
            title=_("This cart link does not work"),
            message=_(
                "The link is invalid or has expired. Please go back to the shop and start again."
            ),
            back=None,
        )
    checkout = services.start(request, "token")
    products = services.sellable(request.db, [sku for sku, _qty in token.lines])
    services.set_lines(checkout, [(s, q) for s, q in token.lines if s in products])
    if len(products) < len({sku for sku, _qty in token.lines}):
        flash(request, _("Some products are no longer sold and were not added."), error=True)
    if token.locale in LOCALES and LOCALE_KEY not in request.session:
        request.session[LOCALE_KEY] = token.locale
    return see_other(request, "checkout.cart")


@view_config(route_name="checkout.update", request_method="POST", renderer=T + "cart.html")
def update(request):
    """Quantities (``qty.<sku>``) and the remove buttons (``remove=<sku>``) of the cart page."""
    checkout = services.open_checkout(request)
    if checkout is None:
        return see_other(request, "checkout.cart")
    remove = request.POST.get("remove")
    lines, errors, typed = [], {}, {}
    for line in checkout.lines:
        sku = line["sku"]
        if sku == remove:
            continue
        raw = request.POST.get(f"qty.{sku}", str(line["quantity"]))
        qty = quantity(raw)
        if qty is None:
            errors[sku], typed[sku] = QUANTITY_ERROR, raw[:10]
            qty = line["quantity"]
        lines.append((sku, qty))
    if errors:
        request.response.status = 422
        return cart_page(request, checkout, errors=errors, typed=typed)
    services.set_lines(checkout, lines)
    if request.POST.get("next") == "details" and lines:
        return see_other(request, "checkout.details")
    flash(request, _("Your cart has been updated."))
    return see_other(request, "checkout.cart")
