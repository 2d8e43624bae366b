"""The OpenAPI 3.1 document of /api/v1 (served at /api/v1/openapi.json): every endpoint with its scope,
parameters, request body and answers, the errors included. tests/test_api_schema.py runs schemathesis
against it, so an answer that differs from what is written here fails the tests."""

from __future__ import annotations

from typing import Any

from infra.runtime import runtime
from models import LeadState, NewsKind, OrderState, PaymentKind, PaymentMethod, PieceState, Role, StockKind
from webviews.apikit import CODES

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
MONEY: Schema = {"type": "string", "pattern": r"^\d{1,8}(\.\d{1,2})?$", "description": 'an amount, e.g. "1280.00"'}


ID: Schema = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


def closed(**properties: Schema) -> Schema:
    """An answer's object: every property always present."""
    return obj(list(properties), **properties)


def page_of(item: str) -> Schema:
    return closed(items={"type": "array", "items": ref(item)}, next_cursor=nullable(STRING))


SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "field"],
        "properties": {
            "error": {"type": "string", "enum": sorted(set(CODES.values()))},
            "message": {"type": "string", "description": "what is wrong, in Chinese, for a person"},
            "field": nullable(STRING),
            "errors": {"type": "object", "additionalProperties": STRING, "description": "field -> message"},
        },
    },
    "Piece": {
        "type": "object",
        "required": ["production_number", "state", "state_label", "expected_date"],
        "properties": {
            "production_number": nullable(STRING),
            "state": {"type": "string", "enum": [s.value for s in PieceState]},
            "state_label": STRING,
            "expected_date": nullable(DATE),
            "label": STRING,
        },
    },
    "ProductionOrder": {
        **closed(
            production_order_number=nullable(STRING),
            order_number=STRING,
            released_at=nullable({"type": "string", "format": "date-time"}),
            expected_date=nullable(DATE),
            pieces={"type": "array", "items": ref("Piece")},
        ),
        # kind=dealer: the dealer's name too.
        "properties": {
            "production_order_number": nullable(STRING),
            "order_number": STRING,
            "dealer": STRING,
            "released_at": nullable({"type": "string", "format": "date-time"}),
            "expected_date": nullable(DATE),
            "pieces": {"type": "array", "items": ref("Piece")},
        },
    },
    "Product": closed(
        id=INT,
        series=STRING,
        model=STRING,
        name=STRING,
        unit=STRING,
        list_price=nullable(STRING),
        specs={"type": "object"},
        active=BOOL,
        production_days=INT,
    ),
    "Lead": closed(
        number=STRING,
        name=STRING,
        phone={"type": "string", "description": "masked"},
        store_id=INT,
        state={"type": "string", "enum": [s.value for s in LeadState]},
        state_label=STRING,
        consultant=nullable(STRING),
        created_at={"type": "string", "format": "date-time"},
    ),
    "OrderItem": {
        "type": "object",
        "required": ["id", "product_id", "series", "model", "room", "quantity"],
        "properties": {
            "id": INT,
            "product_id": nullable(INT),
            "series": STRING,
            "model": STRING,
            "room": STRING,
            "quantity": INT,
            "unit_price": {**nullable(STRING), "description": "only for members who see money"},
            "amount": nullable(STRING),
        },
    },
    "Order": {
        "type": "object",
        "required": [
            "number",
            "state",
            "state_label",
            "customer_id",
            "customer_name",
            "phone",
            "address",
            "sales",
            "sales_userid",
            "org_unit_id",
            "expected_measure_date",
            "items",
            "contract_amount",
            "paid_amount",
            "production_order_number",
            "created_at",
            "state_since",
        ],
        "properties": {
            "number": STRING,
            "state": {"type": "string", "enum": [s.value for s in OrderState]},
            "state_label": STRING,
            "customer_id": INT,
            "customer_name": STRING,
            "phone": {"type": "string", "description": "always masked"},
            "address": {"type": "string", "description": "masked for a token (see /customers)"},
            "sales": STRING,
            "sales_userid": STRING,
            "org_unit_id": INT,
            "expected_measure_date": nullable(DATE),
            "items": {"type": "array", "items": ref("OrderItem")},
            "contract_amount": {**nullable(STRING), "description": "null for members who do not see money"},
            "paid_amount": nullable(STRING),
            "production_order_number": nullable(STRING),
            "created_at": {"type": "string", "format": "date-time"},
            "state_since": nullable({"type": "string", "format": "date-time"}),
            "timeline": {"type": "array", "items": STRING, "description": "on GET /orders/{number} only"},
        },
    },
    "Transition": closed(name=STRING, label=STRING, via_api=BOOL),
    "Customer": closed(
        id=INT,
        name=STRING,
        phone={"type": "string", "description": "masked unless the token has customers:pii"},
        orders={"type": "array", "items": closed(number=STRING, address=STRING)},
        full={"type": "boolean", "description": "true: phone and addresses in full (recorded in the audit log)"},
    ),
    "PriceList": closed(id=INT, name=STRING, org_unit_id=nullable(INT), valid_from=DATE, valid_to=nullable(DATE)),
    "PriceEntry": closed(product_id=INT, price=STRING),
    "NewsItem": closed(
        id=INT,
        title=STRING,
        kind={"type": "string", "enum": [k.value for k in NewsKind]},
        created_at={"type": "string", "format": "date-time"},
        withdrawn=BOOL,
        audience={"type": "integer", "description": "members it was sent to"},
        delivered={"type": "integer", "description": "members WeCom has taken it for"},
        read={"type": "array", "items": closed(name=STRING, unit=STRING, read_at=nullable(STRING))},
        unread={"type": "array", "items": closed(name=STRING, unit=STRING, read_at=nullable(STRING))},
    ),
    "StockLevel": closed(
        product_id=INT,
        series=STRING,
        model=STRING,
        name=STRING,
        stock_kind=nullable({"type": "string", "enum": [k.value for k in StockKind]}),
        unit=STRING,
        warehouse_id=INT,
        warehouse=STRING,
        on_hand=INT,
        reserved=INT,
        available={"type": "integer", "description": "on_hand - reserved, never negative"},
        safety_level=INT,
        below_safety=BOOL,
    ),
    "Payment": closed(
        id=INT,
        order_number=STRING,
        amount=STRING,
        kind={"type": "string", "enum": [k.value for k in PaymentKind]},
        method={"type": "string", "enum": [m.value for m in PaymentMethod]},
        note=STRING,
        recorded_at={"type": "string", "format": "date-time"},
        confirmed=BOOL,
        voided=BOOL,
    ),
    "Webhook": closed(
        id=INT,
        name=STRING,
        url=STRING,
        events={"type": "array", "items": STRING},
        active=BOOL,
        created_at={"type": "string", "format": "date-time"},
    ),
    "WebhookCreated": {
        "allOf": [
            ref("Webhook"),
            obj(["secret"], secret={"type": "string", "description": "the signing secret, shown this once"}),
        ]
    },
    "Delivery": closed(
        id=INT,
        event_id=STRING,
        event_type=STRING,
        subscription_id=INT,
        state={"type": "string", "enum": ["pending", "done", "failed"]},
        attempts=INT,
        last_status=nullable(INT),
        last_error=STRING,
        next_attempt_at={"type": "string", "format": "date-time"},
        delivered_at=nullable({"type": "string", "format": "date-time"}),
        payload={"type": "object"},
    ),
    "Event": {
        "description": "the body of a webhook request (POST to the subscription's URL)",
        **closed(
            id={"type": "string", "description": "the event id (X-Relay-Event-Id): drop repeats by it"},
            type=STRING,
            created_at={"type": "string", "format": "date-time"},
            data={"type": "object"},
        ),
    },
}

WHY = {
    400: "a parameter or a field is wrong (`field` names it)",
    401: "no token, an unknown or a revoked one (or no H5 session)",
    403: "the token lacks the scope (the message names it), or the member it acts as may not do this",
    404: "not found, or not in the part of the company the token's member covers",
    409: "the row's state does not allow it (the lifecycle table's refusal), or someone moved first",
    422: "the Idempotency-Key was used for a different request",
    429: "too many requests this minute",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {"description": WHY[s], "content": {"application/json": {"schema": ref("Error")}}}
        for s in (400, 401, 403, *statuses, 429)
    }


def _ok(status: int, schema: Schema, description: str, *, replayable: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if replayable:
        answer["headers"] = {
            "Idempotency-Replayed": {
                "description": "true: the stored answer to an earlier request with this Idempotency-Key",
                "schema": {"type": "string", "enum": ["true"]},
            }
        }
    return {str(status): answer}


def _path(name: str, schema: Schema = STRING) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _paging() -> list[Schema]:
    top = runtime().config.api.page_limit
    return [
        _query("cursor", STRING, "next_cursor of the previous page (opaque)"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": top}, "rows per page (default 50)"),
    ]


IDEMPOTENCY: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "the same key and body within api.idempotency_hours replays the first answer, applied once",
}


def _get(summary: str, scopes: list[list[str]], answer: Schema, *params: Schema, lookup: bool = False) -> Schema:
    return {
        "summary": summary,
        "security": [{"token": s} if s else {"session": []} for s in scopes],
        "parameters": list(params),
        "responses": {**_ok(200, answer, "the answer"), **_errors(*((404,) if lookup else ()))},
    }


def _write(
    summary: str, scope: str, body: Schema, status: int, answer: Schema, *params: Schema, lookup: bool = False
) -> Schema:
    return {
        "summary": summary,
        "security": [{"token": [scope]}],
        "parameters": [*params, IDEMPOTENCY],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            **_ok(status, answer, "done", replayable=True),
            **_errors(*((404,) if lookup else ()), 409, 422),
        },
    }


ITEM_IN = obj(
    ["product_id"],
    product_id={"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    room={"type": "string", "maxLength": 64},
    quantity={"type": "integer", "minimum": 1, "maximum": 99},
    unit_price={**MONEY, "description": "the unit price sold at (default: the price list's)"},
    discount_percent={**MONEY, "description": "a discount off the list price, in percent"},
)
TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}


def _text(max_len: int) -> Schema:
    return {**TEXT, "maxLength": max_len}


ORDER_IN = obj(
    ["number", "customer_name", "phone", "address", "items"],
    number={**_text(32), "description": "the paper order's number"},
    customer_name=_text(64),
    phone={**_text(32), "description": "11 digits starting with 1"},
    address=_text(255),
    items={"type": "array", "minItems": 1, "maxItems": 50, "items": ITEM_IN},
    expected_measure_date=DATE,
    note={"type": "string", "maxLength": 2000},
    order_discount=MONEY,
)
TRANSITION_IN = obj(
    ["transition"],
    transition={"type": "string", "description": "a row of workflow/order_lifecycle.py (see GET …/transitions)"},
    worker_id={
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
        "description": "dispatch_*: the measurer/installer",
    },
    date={**DATE, "description": "dispatch_*: the visit's date"},
    reason={**_text(255), "description": "cancel, remeasure, edit_customer"},
    customer_name={"type": "string", "maxLength": 64, "description": "edit_customer: the name as corrected"},
    phone={"type": "string", "maxLength": 20, "description": "edit_customer: 11 digits; empty keeps the number"},
    address={"type": "string", "maxLength": 255, "description": "edit_customer: the address as corrected"},
    amount={**MONEY, "description": "confirm: the first payment"},
    contract_amount={**MONEY, "description": "confirm: for an order without prices"},
    method={"type": "string", "enum": [m.value for m in PaymentMethod]},
    kind={"type": "string", "enum": [k.value for k in PaymentKind]},
    note={"type": "string", "maxLength": 255},
)
PRODUCT_IN = obj(
    ["series", "model"],
    series=_text(64),
    model=_text(64),
    name={"type": "string", "maxLength": 128},
    unit={"type": "string", "maxLength": 16},
    list_price=MONEY,
    specs={"type": "object", "description": "name -> a value or a list of choices"},
    active={"type": "boolean", "description": "PUT only: false retires (下架) the product"},
)
PAYMENT_IN = obj(
    ["amount", "method", "kind"],
    amount=MONEY,
    method={"type": "string", "enum": [m.value for m in PaymentMethod]},
    kind={"type": "string", "enum": [k.value for k in PaymentKind]},
    note={"type": "string", "maxLength": 255},
)


def _webhook_in(events: list[str]) -> Schema:
    return obj(
        ["name", "url", "events"],
        name=_text(64),
        url={"type": "string", "format": "uri", "maxLength": 500, "pattern": "^https?://"},
        events={"type": "array", "minItems": 1, "maxItems": len(events), "items": {"type": "string", "enum": events}},
        active={"type": "boolean", "description": "PUT only"},
    )


def document() -> dict[str, Any]:
    from workflow.webhooks import EVENT_TYPES

    webhook_in = _webhook_in(list(EVENT_TYPES))
    number, ident = _path("number"), _path("id", {"type": "integer", "minimum": 1, "maximum": 999_999_999})
    paths: dict[str, Any] = {
        "/api/v1/orders": {
            "get": _get(
                "Orders in the part of the company the token's member covers, by id",
                [["orders:read"]],
                page_of("Order"),
                _query("state", {"type": "string", "enum": [s.value for s in OrderState]}),
                *_paging(),
            ),
            "post": _write("Open an order (as the H5 form)", "orders:write", ORDER_IN, 201, ref("Order")),
        },
        "/api/v1/orders/{number}": {
            "get": _get(
                "An order with its timeline (recorded in the audit log)",
                [["orders:read"], []],
                ref("Order"),
                number,
                lookup=True,
            )
        },
        "/api/v1/orders/{number}/transitions": {
            "get": _get(
                "What the token's member may do to the order now",
                [["orders:read"]],
                closed(items={"type": "array", "items": ref("Transition")}),
                number,
                lookup=True,
            ),
            "post": _write(
                "Move the order by a row of its lifecycle table",
                "orders:write",
                TRANSITION_IN,
                200,
                ref("Order"),
                number,
                lookup=True,
            ),
        },
        "/api/v1/orders/{number}/payments": {
            "post": _write("Record a payment", "payments:write", PAYMENT_IN, 201, ref("Payment"), number, lookup=True)
        },
        "/api/v1/payments": {
            "get": _get(
                "Payments of the orders the member covers",
                [["payments:read"]],
                page_of("Payment"),
                _query("order", STRING, "an order number"),
                *_paging(),
            )
        },
        "/api/v1/customers": {
            "get": _get(
                "Customers with an order the member covers; masked unless customers:pii (then audited)",
                [["customers:read"]],
                page_of("Customer"),
                *_paging(),
            )
        },
        "/api/v1/customers/{id}": {
            "get": _get("One customer", [["customers:read"]], ref("Customer"), ident, lookup=True)
        },
        "/api/v1/customers/phone-check": {
            "get": _get(
                "For the order form: is the phone valid, and does it already have orders",
                [[]],
                closed(valid=BOOL, message=STRING, orders={"type": "array", "items": STRING}),
                {"name": "phone", "in": "query", "required": True, "schema": STRING},
            )
        },
        "/api/v1/products": {
            "get": _get(
                "The catalogue",
                [["products:read"], []],
                page_of("Product"),
                _query("active", {"type": "string", "enum": ["true", "false", "all"]}, "default true"),
                *_paging(),
            ),
            "post": _write("Add a product", "products:write", PRODUCT_IN, 201, ref("Product")),
        },
        "/api/v1/products/{id}": {
            "put": _write(
                "Change a product (all its fields)",
                "products:write",
                PRODUCT_IN,
                200,
                ref("Product"),
                ident,
                lookup=True,
            )
        },
        "/api/v1/stock": {
            "get": _get(
                "Stock levels per warehouse (the factory's, the ERP's view)",
                [["stock:read"]],
                page_of("StockLevel"),
                _query("q", {"type": "string", "maxLength": 64}, "model, series or name contains"),
                _query("warehouse_id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),
                _query("below_safety", {"type": "string", "enum": ["true", "false"]}, "only those below safety"),
                *_paging(),
            )
        },
        "/api/v1/stock/receipts": {
            "post": _write(
                "Goods received into a warehouse (or returned to it), as the member the token acts as",
                "stock:write",
                obj(
                    ["warehouse_id", "lines"],
                    warehouse_id=ID,
                    lines={
                        "type": "array",
                        "minItems": 1,
                        "items": obj(
                            ["product_id", "quantity"],
                            product_id=ID,
                            quantity={"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        ),
                    },
                    reason={"type": "string", "maxLength": 255},
                    ref={"type": "string", "maxLength": 64},
                    returned={"type": "boolean", "description": "true: 退货入库 (goods coming back)"},
                ),
                201,
                closed(items={"type": "array", "items": ref("StockLevel")}),
                lookup=True,
            )
        },
        "/api/v1/stock/counts": {
            "post": _write(
                "A stock-take of one product: the counted quantity becomes on hand (never below what is reserved)",
                "stock:write",
                obj(
                    ["warehouse_id", "product_id", "counted"],
                    warehouse_id=ID,
                    product_id=ID,
                    counted={"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                    reason={"type": "string", "maxLength": 255},
                ),
                201,
                ref("StockLevel"),
                lookup=True,
            )
        },
        "/api/v1/news": {
            "post": _write(
                "Post news (公告) to units and roles, as on 发布公告; a price list needs its file (the page)",
                "news:write",
                obj(
                    ["title", "kind", "unit_ids"],
                    title={"type": "string", "minLength": 1, "maxLength": 64},
                    body={"type": "string", "maxLength": 5000},
                    kind={"type": "string", "enum": [k.value for k in NewsKind]},
                    roles={"type": "array", "items": {"type": "string", "enum": [r.value for r in Role]}},
                    unit_ids={"type": "array", "minItems": 1, "items": ID},
                ),
                201,
                ref("NewsItem"),
            )
        },
        "/api/v1/news/{id}": {
            "get": _get(
                "An item the member posted (an admin: any), with who has read it",
                [["news:read"]],
                ref("NewsItem"),
                ident,
                lookup=True,
            )
        },
        "/api/v1/price-lists": {
            "get": _get("Price lists", [["products:read"]], page_of("PriceList"), *_paging()),
            "post": _write(
                "Add a price list",
                "products:write",
                obj(
                    ["name", "valid_from"],
                    name=_text(64),
                    org_unit_id={"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                    valid_from=DATE,
                    valid_to=DATE,
                ),
                201,
                ref("PriceList"),
            ),
        },
        "/api/v1/price-lists/{id}/entries": {
            "get": _get(
                "A price list's prices", [["products:read"]], page_of("PriceEntry"), ident, *_paging(), lookup=True
            ),
            "put": _write(
                "Set products' prices on the list, all or none (price null: off the list)",
                "products:write",
                obj(
                    ["entries"],
                    entries={
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 500,
                        "items": obj(
                            ["product_id"],
                            product_id={"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                            price=nullable(MONEY),
                        ),
                    },
                ),
                200,
                closed(items={"type": "array", "items": ref("PriceEntry")}),
                ident,
                lookup=True,
            ),
        },
        "/api/v1/pieces/{production_number}/state": {
            "post": _write(
                "Move a production piece (the factory's system)",
                "pieces:write",
                obj(
                    ["state"],
                    state={"type": "string", "enum": [s.value for s in PieceState]},
                    expected_date=DATE,
                ),
                200,
                ref("Piece"),
                _path("production_number"),
                lookup=True,
            )
        },
        "/api/v1/production-orders": {
            "get": _get(
                "Production orders with pieces still at the factory, oldest release first",
                [["production:read"]],
                page_of("ProductionOrder"),
                _query("state", {"type": "string", "enum": ["waiting"]}),
                _query(
                    "kind",
                    {"type": "string", "enum": ["customer", "dealer"]},
                    "customers' orders (default) or dealers'",
                ),
                *_paging(),
            )
        },
        "/api/v1/leads": {
            "get": _get(
                "Bookings (预约), phones masked",
                [["leads:read"]],
                page_of("Lead"),
                _query("state", {"type": "string", "enum": [s.value for s in LeadState]}),
                *_paging(),
            ),
            "post": _write(
                "Book a showroom visit; assigned to a consultant at once",
                "leads:write",
                obj(
                    ["store_id", "name", "phone"],
                    store_id={"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                    name=_text(64),
                    phone={**_text(32), "description": "11 digits, starting with 1"},
                    need_level={"type": "string", "enum": ["高", "中", "低"]},
                    product_ids={"type": "array", "items": INT},
                    products={"type": "string", "maxLength": 255},
                    wanted_at={"type": "string", "format": "date-time"},
                    note={"type": "string", "maxLength": 500},
                ),
                201,
                ref("Lead"),
            ),
        },
        "/api/v1/webhooks": {
            "get": _get("Webhook subscriptions", [["webhooks:write"]], page_of("Webhook"), *_paging()),
            "post": _write("Subscribe a URL to events", "webhooks:write", webhook_in, 201, ref("WebhookCreated")),
        },
        "/api/v1/webhooks/{id}": {
            "put": _write(
                "Change or (de)activate a subscription",
                "webhooks:write",
                webhook_in,
                200,
                ref("Webhook"),
                ident,
                lookup=True,
            )
        },
        "/api/v1/webhooks/{id}/deliveries": {
            "get": _get(
                "A subscription's deliveries", [["webhooks:write"]], page_of("Delivery"), ident, *_paging(), lookup=True
            )
        },
        "/api/v1/webhook-deliveries/{id}/replay": {
            "post": _write(
                "Send a delivery again (same event id and body)",
                "webhooks:write",
                {"type": "object"},
                200,
                ref("Delivery"),
                ident,
                lookup=True,
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Relay (接力) API",
            "version": "1",
            "description": (
                "Service tokens (Authorization: Bearer) carry scopes; orders, customers, payments and catalogue "
                "writes act as the member the token was issued for. Lists are pages by id: pass next_cursor "
                "back as cursor. Writes take an Idempotency-Key. Webhooks: each request is signed, "
                "X-Relay-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>' with the secret>; "
                "delivery is at least once, so drop repeats by X-Relay-Event-Id. Event types: " + ", ".join(EVENT_TYPES)
            ),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "relay_session"},
                "token": {"type": "http", "scheme": "bearer", "description": "a service token (relay token create)"},
            },
        },
        "security": [{"token": []}],
        "paths": paths,
    }
