"""Products and customers (read scope); their writes are in products.py and customers.py."""

from __future__ import annotations

from pyramid.view import view_config
from sqlalchemy import select

from backoffice.models import Customer, Product
from storefront.api import paging, represent
from storefront.api.auth import require_key
from storefront.api.errors import bad_request, not_found
from storefront.api.ordering import setting
from storefront.api.params import updated_after
from storefront.api.views import API_VIEW, json_response

BOOLEANS = {"true": True, "false": False}


@view_config(route_name="api.products", request_method="GET", **API_VIEW)
def list_products(request):
    require_key(request, "read")
    currency = setting(request.db, "currency", "EUR")
    statement = select(Product)
    active = request.params.get("active")
    if active is not None:
        if active not in BOOLEANS:
            raise bad_request("active must be true or false", {"parameter": "active"})
        statement = statement.where(Product.is_active.is_(BOOLEANS[active]))
    statement = updated_after(statement, Product.updated_at, request.params)
    return json_response(
        paging.page(
            statement,
            Product.id,
            request.params,
            request.db,
            lambda p: represent.product(p, currency),
        )
    )


@view_config(route_name="api.product", request_method="GET", **API_VIEW)
def get_product(request):
    require_key(request, "read")
    product = request.db.scalar(select(Product).where(Product.sku == request.matchdict["sku"]))
    if product is None:
        raise not_found("product")
    return json_response(represent.product(product, setting(request.db, "currency", "EUR")))


@view_config(route_name="api.customers", request_method="GET", **API_VIEW)
def list_customers(request):
    require_key(request, "read")
    statement = select(Customer)
    email = request.params.get("email")
    if email:
        statement = statement.where(Customer.email == email.strip().lower())
    statement = updated_after(statement, Customer.updated_at, request.params)
    return json_response(
        paging.page(statement, Customer.id, request.params, request.db, represent.customer)
    )


@view_config(route_name="api.customer", request_method="GET", **API_VIEW)
def get_customer(request):
    require_key(request, "read")
    customer = request.db.get(Customer, int(request.matchdict["id"]))
    if customer is None:
        raise not_found("customer")
    return json_response(represent.customer(customer))
