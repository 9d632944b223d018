"""The OpenAPI 3.1 document of the store API, built from the schemas the views validate with."""

from __future__ import annotations

from storefront.api.schemas import COMPONENTS

ERROR_STATUSES = {
    "400": "Malformed request (bad JSON, query parameter or header).",
    "401": "No API key, an unknown key, or a revoked key.",
    "403": "The key belongs to another store, or lacks the scope.",
    "404": "No such object in this store.",
    "409": "Conflict: out of stock, the external_reference exists with other content, "
    "the SKU / e-mail address is another product's / customer's, nothing is left to refund, "
    "or an identical request is still in progress (in_progress; see Retry-After).",
    "413": "The body is larger than 64 KiB.",
    "422": "Valid JSON that cannot be processed (validation, unknown SKU, transition, "
    "Idempotency-Key reused with another body, a refund larger than what is left).",
    "502": "The payment provider refused or failed the refund; nothing was recorded.",
    "429": "Rate limit of the key exhausted; see Retry-After.",
    "503": "The database stayed locked after the retries; see Retry-After.",
}
RATE_HEADERS = {
    name: {"description": text, "schema": {"type": "integer"}}
    for name, text in (
        ("RateLimit-Limit", "Requests the key may burst."),
        ("RateLimit-Remaining", "Requests left in the bucket now."),
        ("RateLimit-Reset", "Seconds until the bucket is full again."),
    )
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str, description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }
    if headers:
        response["headers"] = headers
    return response


ORDER_LINKS = {
    "getOrder": {"operationId": "getOrder", "parameters": {"id": "$response.body#/id"}},
    "changeOrderStatus": {
        "operationId": "changeOrderStatus",
        "parameters": {"id": "$response.body#/id"},
    },
    "addOrderNote": {"operationId": "addOrderNote", "parameters": {"id": "$response.body#/id"}},
    "getOrderStatus": {
        "operationId": "getOrderStatus",
        "parameters": {"token": "$response.body#/status_token"},
    },
    "getCustomer": {
        "operationId": "getCustomer",
        "parameters": {"id": "$response.body#/customer/id"},
    },
}


def _errors(*statuses: str) -> dict:
    return {
        status: {"$ref": f"#/components/responses/E{status}"}
        for status in ("401", "403", "429", "503", *statuses)
    }


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


PAGING = [
    _query(
        "limit",
        "Page size, 1 to 100 (default 20).",
        {"type": "integer", "minimum": 1, "maximum": 100},
    ),
    _query("cursor", "The next_cursor of the previous page (empty: the first page)."),
]
UPDATED_AFTER = _query(
    "updated_after",
    "Only what changed at or after this ISO 8601 date-time (no offset means UTC). "
    "Pass the newest updated_at you have seen; drop the repeats by id.",
    {"type": "string", "format": "date-time"},
)


def _path_id(name: str = "id") -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 999999999999999999},
    }


def _operation(
    op_id: str,
    summary: str,
    scope: str,
    ok: dict,
    errors: dict,
    parameters=None,
    body: str | None = None,
) -> dict:
    operation = {
        "operationId": op_id,
        "summary": summary,
        "security": [{"apiKey": [scope]}],
        "responses": {**ok, **errors},
    }
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def _with_links(operation: dict, status: str, links: dict) -> dict:
    operation["responses"][status] = {**operation["responses"][status], "links": links}
    return operation


def paths() -> dict:
    return {
        "/api/v1/products": {
            "get": _operation(
                "listProducts",
                "List products, newest first.",
                "read",
                {"200": _json("ProductPage", "A page of products.", RATE_HEADERS)},
                _errors("400"),
                [
                    *PAGING,
                    UPDATED_AFTER,
                    _query(
                        "active",
                        "Only active (true) or inactive (false) products.",
                        {"type": "string", "enum": ["true", "false"]},
                    ),
                ],
            )
        },
        "/api/v1/products/{sku}": {
            "get": _operation(
                "getProduct",
                "One product by SKU.",
                "read",
                {"200": _json("Product", "The product.", RATE_HEADERS)},
                _errors("404"),
                [{"name": "sku", "in": "path", "required": True, "schema": {"type": "string"}}],
            )
        },
        "/api/v1/orders": {
            "post": _with_links(
                _operation(
                    "createOrder",
                    "Place an order; prices and stock come from the store.",
                    "write",
                    {
                        "201": _json(
                            "Order",
                            "The order was created (or, with the same "
                            "Idempotency-Key or external_reference and the same "
                            "body, this is the stored response, with "
                            "Idempotent-Replayed: true).",
                            RATE_HEADERS,
                        )
                    },
                    _errors("400", "409", "413", "422"),
                    [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        }
                    ],
                    body="OrderCreate",
                ),
                "201",
                ORDER_LINKS,
            ),
            "get": _operation(
                "listOrders",
                "List orders, newest first, with filters.",
                "read",
                {"200": _json("OrderPage", "A page of orders.", RATE_HEADERS)},
                _errors("400"),
                [
                    *PAGING,
                    UPDATED_AFTER,
                    _query("status", "Only orders in this status."),
                    _query("payment_status", "unpaid, paid, refunded..."),
                    _query("external_reference", "Your reference."),
                    _query("email", "The customer's e-mail."),
                    _query(
                        "created_after",
                        "ISO 8601 date-time, inclusive.",
                        {"type": "string", "format": "date-time"},
                    ),
                    _query(
                        "created_before",
                        "ISO 8601 date-time, exclusive.",
                        {"type": "string", "format": "date-time"},
                    ),
                ],
            ),
        },
        "/api/v1/orders/{id}": {
            "get": _operation(
                "getOrder",
                "One order with its lines.",
                "read",
                {"200": _json("Order", "The order.", RATE_HEADERS)},
                _errors("404"),
                [_path_id()],
            )
        },
        "/api/v1/orders/{id}/status": {
            "post": _operation(
                "changeOrderStatus",
                "Move the order along the store's status flow.",
                "write",
                {"200": _json("Order", "The order in its new status.", RATE_HEADERS)},
                _errors("400", "404", "413", "422"),
                [_path_id()],
                body="StatusChange",
            )
        },
        "/api/v1/orders/{id}/notes": {
            "post": _operation(
                "addOrderNote",
                "Add a note to the order's timeline.",
                "write",
                {"201": _json("OrderEvent", "The note.", RATE_HEADERS)},
                _errors("400", "404", "413", "422"),
                [_path_id()],
                body="NoteCreate",
            )
        },
        "/api/v1/orders/{id}/refunds": {
            "post": _operation(
                "createRefund",
                "Refund the order through its payment provider, or record a refund "
                "made elsewhere; never more than is left to refund.",
                "write",
                {
                    "201": _json(
                        "Refund",
                        "The refund (or, with the same Idempotency-Key and body, the "
                        "stored response, with Idempotent-Replayed: true).",
                        RATE_HEADERS,
                    )
                },
                _errors("400", "404", "409", "422", "502"),
                [
                    _path_id(),
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    },
                ],
                body="RefundCreate",
            ),
            "get": _operation(
                "listRefunds",
                "The order's refunds, oldest first.",
                "read",
                {"200": _json("RefundList", "The refunds.", RATE_HEADERS)},
                _errors("404"),
                [_path_id()],
            ),
        },
        "/api/v1/customers": {
            "get": _operation(
                "listCustomers",
                "List customers, newest first.",
                "read",
                {"200": _json("CustomerPage", "A page of customers.", RATE_HEADERS)},
                _errors("400"),
                [*PAGING, UPDATED_AFTER, _query("email", "Only this e-mail.")],
            )
        },
        "/api/v1/customers/{id}": {
            "get": _operation(
                "getCustomer",
                "One customer.",
                "read",
                {"200": _json("Customer", "The customer.", RATE_HEADERS)},
                _errors("404"),
                [_path_id()],
            )
        },
        "/api/v1/carts": {
            "post": _operation(
                "createCart",
                "A signed link that opens the store's hosted checkout with this "
                "cart. Nothing is reserved: stock is checked when the shopper orders.",
                "write",
                {"201": _json("Cart", "The signed cart and its checkout URL.", RATE_HEADERS)},
                _errors("400", "413", "422"),
                body="CartCreate",
            )
        },
        "/api/v1/order-status/{token}": {
            "get": _operation(
                "getOrderStatus",
                "What a shopper may see of an order, by its status_token.",
                "read",
                {"200": _json("OrderStatus", "The order's status.", RATE_HEADERS)},
                _errors("404"),
                [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
            )
        },
    }


SKU_PATH = {"name": "sku", "in": "path", "required": True, "schema": {"type": "string"}}
DELETED = {"description": "Deleted; no body.", "headers": RATE_HEADERS}


def write_paths() -> dict:
    """Products, customers and webhooks written through the API (merged into ``paths``)."""
    return {
        "/api/v1/products": {
            "post": _operation(
                "createProduct",
                "Add a product, by the back office's rules (SKU unique).",
                "write",
                {"201": _json("Product", "The product.", RATE_HEADERS)},
                _errors("400", "409", "422"),
                body="ProductCreate",
            )
        },
        "/api/v1/products/{sku}": {
            "patch": _operation(
                "updateProduct",
                "Change the fields given: name, price, stock (absolute), SKU, active...",
                "write",
                {"200": _json("Product", "The product as changed.", RATE_HEADERS)},
                _errors("400", "404", "409", "422"),
                [SKU_PATH],
                body="ProductUpdate",
            )
        },
        "/api/v1/products/{sku}/stock": {
            "post": _operation(
                "changeStock",
                "Adjust the stock by a number ({adjust}) or set it ({set}); the product is "
                "locked meanwhile, so concurrent adjustments add up and stock never goes "
                "below zero (409 out_of_stock instead).",
                "write",
                {"200": _json("Product", "The product with its new stock.", RATE_HEADERS)},
                _errors("400", "404", "409", "422"),
                [SKU_PATH],
                body="StockChange",
            )
        },
        "/api/v1/products/{sku}/archive": {
            "post": _operation(
                "archiveProduct",
                "Archive the product (active false): no longer orderable, kept in orders.",
                "write",
                {"200": _json("Product", "The archived product.", RATE_HEADERS)},
                _errors("404"),
                [SKU_PATH],
            )
        },
        "/api/v1/customers": {
            "post": _operation(
                "createCustomer",
                "Add a customer; the e-mail address is unique in the store.",
                "write",
                {"201": _json("Customer", "The customer.", RATE_HEADERS)},
                _errors("400", "409", "422"),
                body="CustomerCreate",
            )
        },
        "/api/v1/customers/{id}": {
            "patch": _operation(
                "updateCustomer",
                "Change the customer's e-mail, name or phone.",
                "write",
                {"200": _json("Customer", "The customer as changed.", RATE_HEADERS)},
                _errors("400", "404", "409", "422"),
                [_path_id()],
                body="CustomerUpdate",
            )
        },
        "/api/v1/webhooks": {
            "get": _operation(
                "listWebhooks",
                "The store's webhook endpoints, newest first.",
                "read",
                {"200": _json("WebhookPage", "A page of endpoints.", RATE_HEADERS)},
                _errors("400"),
                [*PAGING, UPDATED_AFTER],
            ),
            "post": _operation(
                "createWebhook",
                "Subscribe a URL to events; the signing secret is in this answer only.",
                "write",
                {"201": _json("WebhookCreated", "The endpoint and its secret.", RATE_HEADERS)},
                _errors("400", "422"),
                body="WebhookCreate",
            ),
        },
        "/api/v1/webhooks/{id}": {
            "get": _operation(
                "getWebhook",
                "One webhook endpoint (never its secret).",
                "read",
                {"200": _json("Webhook", "The endpoint.", RATE_HEADERS)},
                _errors("404"),
                [_path_id()],
            ),
            "delete": _operation(
                "deleteWebhook",
                "Delete the endpoint and its delivery log; nothing more is sent to it.",
                "write",
                {"204": DELETED},
                _errors("404"),
                [_path_id()],
            ),
        },
        "/api/v1/webhooks/{id}/disable": {
            "post": _operation(
                "disableWebhook",
                "Stop sending to the endpoint; its delivery log stays.",
                "write",
                {"200": _json("Webhook", "The disabled endpoint.", RATE_HEADERS)},
                _errors("404"),
                [_path_id()],
            )
        },
    }


def all_paths() -> dict:
    merged = paths()
    for path, item in write_paths().items():
        merged[path] = {**merged.get(path, {}), **item}
    return merged


def document(server_url: str = "/") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Store API",
            "version": "1.0.0",
            "description": "Orders, products and customers of one store, for reseller "
            "websites. See docs/api.md.",
        },
        "servers": [{"url": server_url}],
        "security": [{"apiKey": []}],
        "paths": all_paths(),
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer bo_live_..., scopes read and write.",
                }
            },
            "responses": {
                f"E{status}": _json("Error", text) for status, text in ERROR_STATUSES.items()
            },
        },
    }
