"""JSON Schemas of the API: the OpenAPI document and request validation share them."""

from __future__ import annotations

from functools import cache

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from backoffice.customers import services as customers
from backoffice.products import services as products
from backoffice.ui.forms import EMAIL
from backoffice.webhooks.events import EVENT_TYPES

LOCALES = ["en", "ru", "uk"]
DATETIME = {"type": "string", "format": "date-time"}
MINOR = {"type": "integer", "description": "Money in minor units (cents, kopecks)."}
NULLABLE_STR = {"type": ["string", "null"]}


def _object(properties: dict, required=None, *, closed=True) -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(required if required is not None else properties),
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _page(item: str) -> dict:
    return _object(
        {
            "data": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                **NULLABLE_STR,
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
        }
    )


PRODUCT_FIELDS = {
    "sku": {
        "type": "string",
        "minLength": 1,
        "maxLength": products.TEXTS["sku"],
        "pattern": products.SKU.pattern,
    },
    "name": {"type": "string", "minLength": 1, "maxLength": products.TEXTS["name"]},
    "description": {"type": "string", "maxLength": products.TEXTS["description"]},
    "price_minor": MINOR
    | {"minimum": 0, "description": "Money in minor units; at most 10^9 in the main unit."},
    "stock": {"type": "integer", "minimum": 0, "maximum": products.MAX_STOCK},
    "active": {"type": "boolean", "description": "false archives: no longer orderable."},
}
CUSTOMER_FIELDS = {
    "email": {
        "type": "string",
        "minLength": 3,
        "maxLength": customers.TEXTS["email"],
        # The back office's check; spaces around are trimmed.
        "pattern": r"^\s*" + EMAIL.pattern.strip("^$") + r"\s*$",
        "description": "Kept lower-case and trimmed; unique in the store.",
    },
    "name": {"type": "string", "maxLength": customers.TEXTS["name"]},
    "phone": {"type": "string", "maxLength": customers.TEXTS["phone"]},
}

COMPONENTS: dict[str, dict] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                }
            )
        }
    ),
    "Product": _object(
        {
            "id": {"type": "integer"},
            "sku": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "price_minor": MINOR,
            "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            "stock": {"type": "integer"},
            "active": {"type": "boolean"},
            "updated_at": DATETIME,
        }
    ),
    "ProductPage": _page("Product"),
    "OrderLine": _object(
        {
            "sku": {"type": "string"},
            "name": {"type": "string"},
            "quantity": {"type": "integer"},
            "unit_price_minor": MINOR,
            "total_minor": MINOR,
        }
    ),
    "OrderCustomer": _object(
        {
            "id": {"type": ["integer", "null"]},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "phone": {"type": "string"},
        }
    ),
    "Order": _object(
        {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "status": {"type": "string"},
            "payment_status": {"type": "string"},
            "currency": {"type": "string"},
            "subtotal_minor": MINOR,
            "shipping_minor": MINOR,
            "total_minor": MINOR,
            "external_reference": NULLABLE_STR,
            "status_token": NULLABLE_STR,
            "source": {"type": "string"},
            "locale": {"type": "string"},
            "customer": _ref("OrderCustomer"),
            "shipping_address": {"type": "string"},
            "lines": {"type": "array", "items": _ref("OrderLine")},
            "created_at": DATETIME,
            "updated_at": DATETIME,
        }
    ),
    "OrderPage": _page("Order"),
    "OrderEvent": _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "actor": {"type": "string"},
            "message": {"type": "string"},
            "from_status": NULLABLE_STR,
            "to_status": NULLABLE_STR,
            "created_at": DATETIME,
        }
    ),
    "OrderStatus": _object(
        {
            "number": {"type": "string"},
            "status": {"type": "string"},
            "payment_status": {"type": "string"},
            "currency": {"type": "string"},
            "total_minor": MINOR,
            "created_at": DATETIME,
            "updated_at": DATETIME,
            "lines": {
                "type": "array",
                "items": _object(
                    {
                        "sku": {"type": "string"},
                        "name": {"type": "string"},
                        "quantity": {"type": "integer"},
                    }
                ),
            },
        }
    ),
    "Customer": _object(
        {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "phone": {"type": "string"},
            "created_at": DATETIME,
            "updated_at": DATETIME,
        }
    ),
    "CustomerPage": _page("Customer"),
    "Webhook": _object(
        {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "description": {"type": "string"},
            "events": {"type": "array", "items": {"type": "string"}},
            "active": {"type": "boolean"},
            "created_at": DATETIME,
            "updated_at": DATETIME,
        }
    ),
    "WebhookPage": _page("Webhook"),
    "WebhookCreated": _object(
        {
            "webhook": _ref("Webhook"),
            "secret": {
                "type": "string",
                "description": "The signing secret (whsec_...): shown this once, never again.",
            },
        }
    ),
    # Requests: products, customers and webhooks. The limits are the back office's
    # (products.services, customers.services); the services check them again.
    "ProductCreate": _object(PRODUCT_FIELDS, required=["sku", "name", "price_minor"])
    | {"examples": [{"sku": "TEA-3", "name": "Oolong", "price_minor": 1400, "stock": 12}]},
    "ProductUpdate": _object(PRODUCT_FIELDS, required=[])
    | {"minProperties": 1, "examples": [{"price_minor": 1500, "stock": 8}]},
    "StockChange": _object(
        {
            "adjust": {
                "type": "integer",
                "minimum": -products.MAX_STOCK,
                "maximum": products.MAX_STOCK,
                "description": "Add this much (negative: take away); refused if the "
                "stock would go below zero.",
            },
            "set": {
                "type": "integer",
                "minimum": 0,
                "maximum": products.MAX_STOCK,
                "description": "The stock from now on (a count you made).",
            },
        },
        required=[],
    )
    | {"minProperties": 1, "maxProperties": 1, "examples": [{"adjust": -1}, {"set": 10}]},
    "CustomerCreate": _object(CUSTOMER_FIELDS, required=["email"])
    | {"examples": [{"email": "ann@example.com", "name": "Ann", "phone": "+1 555"}]},
    "CustomerUpdate": _object(CUSTOMER_FIELDS, required=[])
    | {"minProperties": 1, "examples": [{"phone": "+1 556"}]},
    "WebhookCreate": _object(
        {
            "url": {"type": "string", "minLength": 1, "maxLength": 500, "format": "uri"},
            "events": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"type": "string", "enum": list(EVENT_TYPES)},
            },
            "description": {"type": "string", "maxLength": 200},
        },
        required=["url", "events"],
    )
    | {"examples": [{"url": "https://shop.example.com/hooks", "events": [EVENT_TYPES[0]]}]},
    # Requests.
    "OrderCreate": _object(
        {
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": _object(
                    {
                        "sku": {"type": "string", "minLength": 1, "maxLength": 64},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                    }
                ),
            },
            "customer": _object(
                {
                    "email": {
                        "type": "string",
                        "minLength": 3,
                        "maxLength": 254,
                        "pattern": r"^[^@\s]+@[^@\s]+$",
                    },
                    "name": {"type": "string", "maxLength": 200},
                    "phone": {"type": "string", "maxLength": 40},
                },
                required=["email"],
            ),
            "shipping_address": {"type": "string", "maxLength": 2000},
            "external_reference": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "pattern": r"^[A-Za-z0-9._:/#-]+$",
            },
            "locale": {"type": "string", "enum": LOCALES},
        },
        required=["lines", "customer"],
    )
    | {
        "examples": [
            {
                "lines": [{"sku": "TEA-1", "quantity": 1}],
                "customer": {"email": "ann@example.com", "name": "Ann"},
                "shipping_address": "1 Main St, Springfield",
                "locale": "en",
            }
        ]
    },
    "CartCreate": _object(
        {
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": _object(
                    {
                        "sku": {"type": "string", "minLength": 1, "maxLength": 64},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 999},
                    }
                ),
            },
            "locale": {"type": "string", "enum": LOCALES},
            "expires_in": {
                "type": "integer",
                "minimum": 60,
                "maximum": 604800,
                "description": "Seconds the link works (default 86400).",
            },
        },
        required=["lines"],
    )
    | {"examples": [{"lines": [{"sku": "TEA-1", "quantity": 2}], "locale": "en"}]},
    "Cart": _object(
        {
            "token": {"type": "string", "description": "The signed cart (opaque)."},
            "url": {
                "type": "string",
                "description": "Send the shopper here: the store's checkout opens with this cart.",
            },
            "expires_at": DATETIME,
            "lines": {
                "type": "array",
                "items": _object({"sku": {"type": "string"}, "quantity": {"type": "integer"}}),
            },
        }
    ),
    "StatusChange": _object(
        {
            "status": {"type": "string", "minLength": 1, "maxLength": 32},
            "message": {"type": "string", "maxLength": 2000},
        },
        required=["status"],
    ),
    "NoteCreate": _object({"message": {"type": "string", "minLength": 1, "maxLength": 5000}}),
    "RefundCreate": _object(
        {
            "amount_minor": {
                **MINOR,
                "minimum": 1,
                "description": "Money in minor units; absent: all that is left to refund.",
            },
            "method": {
                "type": "string",
                "enum": ["provider", "recorded"],
                "description": "provider (default): through the payment provider; "
                "recorded: made elsewhere (cash, bank, the provider's dashboard).",
            },
            "reason": {"type": "string", "maxLength": 500},
        },
        required=[],
    )
    | {"examples": [{"amount_minor": 500, "method": "recorded", "reason": "returned by post"}]},
    "Refund": _object(
        {
            "id": {"type": "integer"},
            "order_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["succeeded", "pending", "settled"]},
            "amount_minor": MINOR,
            "currency": {"type": "string"},
            "gateway": {"type": "string"},
            "method": {"type": "string", "enum": ["provider", "recorded"]},
            "reason": {"type": "string"},
            "provider_reference": {"type": "string"},
            "created_at": DATETIME,
        }
    ),
    "RefundList": _object({"data": {"type": "array", "items": _ref("Refund")}}),
}


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for one component, with ``$ref`` to the others resolved."""
    document = DRAFT202012.create_resource({"components": {"schemas": COMPONENTS}})
    registry = Registry().with_resource("urn:api", document)
    return Draft202012Validator({"$ref": f"urn:api#/components/schemas/{name}"}, registry=registry)
