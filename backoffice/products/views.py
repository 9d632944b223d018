from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from backoffice.audit.services import record
from backoffice.formatting import to_decimal
from backoffice.i18n import _
from backoffice.models import InventoryMovement, Order, Product
from backoffice.products import services
from backoffice.products.forms import add_errors, product_form, product_values
from backoffice.ui.paging import page_number

T = "backoffice:templates/admin/products/"


@view_config(route_name="products.list", permission="products.view", renderer=T + "list.jinja2")
def product_list(request):
    page = page_number(request)
    q = (request.GET.get("q") or "").strip()[:100]
    active = request.GET.get("active", "")
    products, has_next = services.product_page(request.db, q=q, active=active, page=page)

    def url_for(n):
        return request.route_url(
            "products.list",
            _query={k: v for k, v in {"q": q, "active": active, "page": n}.items() if v},
        )

    return {
        "products": products,
        "has_next": has_next,
        "page": page,
        "q": q,
        "active": active,
        "url_for": url_for,
    }


def _product(request) -> Product:
    product = request.db.get(Product, int(request.matchdict["id"]))
    if product is None:
        raise HTTPNotFound()
    return product


def _form_values(product: Product, currency: str) -> dict:
    values = services.snapshot(product)
    values["price"] = to_decimal(product.price_minor, currency)
    return values


@view_config(
    route_name="products.new",
    request_method="GET",
    permission="products.edit",
    renderer=T + "edit.jinja2",
)
def product_new(request):
    return {"product": None, "form": {"is_active": True, "stock": 0}, "errors": {}}


@view_config(
    route_name="products.new",
    request_method="POST",
    permission="products.edit",
    renderer=T + "edit.jinja2",
)
def product_create(request):
    form = product_form(request.POST, request.store_config.currency)
    if form.ok:
        try:
            product = services.create_product(
                request.db, product_values(form), request.store_config.currency
            )
        except services.ProductInvalid as exc:
            add_errors(form, exc.errors)
    if not form.ok:
        request.response.status = 400
        return {"product": None, "form": form.data, "errors": form.errors}
    record(request, "product.create", "product", product.id, after=services.snapshot(product))
    request.session.flash(
        request.localizer.translate(
            _("Product “${name}” is created.", mapping={"name": product.name})
        ),
        "success",
    )
    return HTTPSeeOther(request.route_url("products.list"))


@view_config(
    route_name="products.edit",
    request_method="GET",
    permission="products.view",
    renderer=T + "edit.jinja2",
)
def product_edit(request):
    product = _product(request)
    return {
        "product": product,
        "errors": {},
        "form": _form_values(product, request.store_config.currency),
        "movements": stock_movements(request.db, product.id),
    }


def stock_movements(db, product_id: int, limit: int = 50) -> list:
    """The product's latest stock changes made by orders, with the order's number."""
    return db.execute(
        select(
            InventoryMovement.created_at,
            InventoryMovement.delta,
            InventoryMovement.reason,
            InventoryMovement.actor,
            InventoryMovement.order_id,
            Order.number,
        )
        .outerjoin(Order, Order.id == InventoryMovement.order_id)
        .where(InventoryMovement.product_id == product_id)
        .order_by(InventoryMovement.id.desc())
        .limit(limit)
    ).all()


@view_config(
    route_name="products.edit",
    request_method="POST",
    permission="products.edit",
    renderer=T + "edit.jinja2",
)
def product_update(request):
    product = _product(request)
    form = product_form(request.POST, request.store_config.currency)
    if form.ok:
        try:
            old, new = services.update_product(
                request.db, product, product_values(form), request.store_config.currency
            )
        except services.ProductInvalid as exc:
            add_errors(form, exc.errors)
    if not form.ok:
        request.response.status = 400
        return {"product": product, "form": form.data, "errors": form.errors}
    if new:
        record(request, "product.update", "product", product.id, before=old, after=new)
    request.session.flash(
        request.localizer.translate(
            _("Product “${name}” is saved.", mapping={"name": product.name})
        ),
        "success",
    )
    return HTTPSeeOther(request.route_url("products.list"))


@view_config(route_name="products.delete", request_method="POST", permission="products.edit")
def product_delete(request):
    product = _product(request)
    translate = request.localizer.translate
    if services.is_ordered(request.db, product.id):
        request.session.flash(
            translate(
                _(
                    "“${name}” appears in orders and cannot be deleted; make it inactive instead.",
                    mapping={"name": product.name},
                )
            ),
            "error",
        )
        return HTTPSeeOther(request.route_url("products.edit", id=product.id))
    record(request, "product.delete", "product", product.id, before=services.snapshot(product))
    request.db.delete(product)
    request.session.flash(
        translate(_("Product “${name}” is deleted.", mapping={"name": product.name})), "success"
    )
    return HTTPSeeOther(request.route_url("products.list"))
