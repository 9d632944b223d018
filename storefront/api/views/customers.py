"""Customer writes (write scope): create and change, by the back office's rules
(``backoffice.customers.services``): the e-mail address is kept lower-case and
names one customer of the store."""

from __future__ import annotations

from pyramid.view import view_config
from sqlalchemy import select

from backoffice.audit.services import record
from backoffice.customers import services
from backoffice.models import Customer
from storefront.api import represent
from storefront.api.auth import require_key
from storefront.api.errors import ApiError, not_found
from storefront.api.refusals import duplicate, invalid_fields
from storefront.api.views import API_VIEW, actor, body_of, json_response


def refused(request, exc: services.CustomerInvalid) -> ApiError:
    if isinstance(exc, services.EmailTaken):
        return duplicate(
            request,
            "duplicate_email",
            "another customer has this e-mail address",
            exc.errors,
            email=exc.email,
        )
    return invalid_fields(request, exc.errors)


@view_config(route_name="api.customers", request_method="POST", **API_VIEW)
def create_customer(request):
    key = require_key(request, "write")
    payload = body_of(request, "CustomerCreate")
    try:
        customer = services.create_customer(request.db, payload)
    except services.CustomerInvalid as exc:
        raise refused(request, exc) from None
    record(
        request,
        "customer.create",
        "customer",
        customer.id,
        after=services.snapshot(customer),
        actor=actor(key),
    )
    location = request.route_url("api.customer", id=customer.id)
    return json_response(represent.customer(customer), 201, {"Location": location})


@view_config(route_name="api.customer", request_method="PATCH", **API_VIEW)
def update_customer(request):
    key = require_key(request, "write")
    payload = body_of(request, "CustomerUpdate")
    customer = request.db.scalar(
        select(Customer).where(Customer.id == int(request.matchdict["id"])).with_for_update()
    )
    if customer is None:
        raise not_found("customer")
    try:
        old, new = services.update_customer(request.db, customer, payload)
    except services.CustomerInvalid as exc:
        raise refused(request, exc) from None
    if new:
        record(
            request,
            "customer.update",
            "customer",
            customer.id,
            before=old,
            after=new,
            actor=actor(key),
        )
    return json_response(represent.customer(customer))
