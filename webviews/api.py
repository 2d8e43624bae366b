"""The JSON API under /api/v1 (same session as the H5 pages), described at /api/v1/openapi.json."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from aiohttp import web

from infra.errors import UserError
from infra.security import is_mobile, mask_phone, normalize_phone
from infra.timeutil import local_moment
from models import (
    AuditAction,
    DealerPiece,
    Lead,
    LeadSource,
    LeadState,
    OrderPiece,
    PieceState,
    Product,
    ServiceToken,
    Staff,
)
from webviews.auth import STAFF, Handler, api_staff, over_limit, session_staff
from workflow import audit, stock
from workflow.dealer_pieces import waiting_dealer_orders
from workflow.errors import Invalid, WorkflowError
from workflow.lead_views import lead_phone
from workflow.leads import LeadInput, create_lead, store_for
from workflow.privacy import sees_money
from workflow.production import move_numbered, waiting_orders
from workflow.scope import get_order_for
from workflow.search import OrderFilter, search_orders
from workflow.selectors import order_view, orders_with_phone
from workflow.tokens import authenticate

routes = web.RouteTableDef()


def api_auth(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        staff = await session_staff(request)
        if staff is None or not staff.active:
            return web.json_response({"error": "请从企业微信打开页面后再试"}, status=401)
        refused = await over_limit(request, "api", staff.userid)
        if refused is not None:
            return refused
        request[STAFF] = staff
        return await handler(request)

    return wrapper


# Machine callers (the factory's own system): a service token in `Authorization: Bearer`, checked for
# the endpoint's scope before anything is parsed (workflow/tokens.py). Errors are JSON with the status.
TOKEN_KEY = web.RequestKey("service_token", ServiceToken)


def error(exc: UserError) -> web.Response:
    return web.json_response({"error": exc.message}, status=exc.status)


def token_auth(scope: str) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization", "")
            secret = header[7:].strip() if header[:7].lower() == "bearer " else ""
            try:
                token = await authenticate(secret, scope)
            except UserError as exc:
                return error(exc)
            refused = await over_limit(request, "api", f"token:{token.id}")
            if refused is not None:
                return refused
            request[TOKEN_KEY] = token
            try:
                return await handler(request)
            except UserError as exc:
                return error(exc)

        return wrapper

    return decorate


def token_of(request: web.Request) -> ServiceToken:
    return request[TOKEN_KEY]


@routes.post("/api/v1/pieces/{production_number}/state")
@token_auth("pieces:write")
async def piece_state(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("请求体应为 JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("state"), str):
        raise Invalid('请提供 state，例如 {"state": "finished"}', "state")
    try:
        target = PieceState(body["state"])
    except ValueError:
        raise Invalid(f"未知的状态：{body['state']}（可选：{'、'.join(PieceState)}）", "state") from None
    expected = None
    if body.get("expected_date") is not None:
        try:
            expected = date.fromisoformat(str(body["expected_date"]))
        except ValueError:
            raise Invalid("expected_date 应为 YYYY-MM-DD", "expected_date") from None
    number = request.match_info["production_number"]
    moved = await move_numbered(actor=token_of(request), number=number, target=target, expected_date=expected)
    return web.json_response(_piece_json(moved))


def _piece_json(piece: OrderPiece | DealerPiece, label: str = "") -> dict[str, Any]:
    return {
        "production_number": piece.production_number,
        "state": piece.state.value,
        "state_label": piece.state.label,
        "expected_date": piece.expected_date.isoformat() if piece.expected_date else None,
        **({"label": label} if label else {}),
    }


@routes.get("/api/v1/production-orders")
@token_auth("production:read")
async def production_orders(request: web.Request) -> web.Response:
    if request.query.get("state", "waiting") != "waiting":
        raise Invalid("state 目前只支持 waiting", "state")
    try:
        after = int(request.query.get("cursor") or 0)
        limit = min(max(int(request.query.get("limit") or 50), 1), 200)
    except ValueError:
        raise Invalid("cursor 和 limit 应为整数", "cursor") from None
    if request.query.get("kind", "customer") == "dealer":
        return await _dealer_production_orders(after, limit)
    if request.query.get("kind", "customer") != "customer":
        raise Invalid("kind 应为 customer 或 dealer", "kind")
    orders = await waiting_orders(after=after, limit=limit + 1)
    page, more = orders[:limit], len(orders) > limit
    # No customer's name, phone or address: the factory makes pieces, it does not call anyone.
    items = [
        {
            "production_order_number": p.order.production_order_number,
            "order_number": p.order.number,
            "released_at": p.order.released_at.isoformat() if p.order.released_at else None,
            "expected_date": p.expected.isoformat() if p.expected else None,
            "pieces": [_piece_json(piece, p.labels[piece.id]) for piece in p.pieces],
        }
        for p in page
    ]
    return web.json_response({"items": items, "next_cursor": str(page[-1].order.id) if more else None})


async def _dealer_production_orders(after: int, limit: int) -> web.Response:
    """Dealers' accepted orders with pieces still at the factory: the same shape, the dealer named."""
    orders = await waiting_dealer_orders(after=after, limit=limit + 1)
    page, more = orders[:limit], len(orders) > limit
    items = [
        {
            "production_order_number": p.order.factory_number,
            "order_number": p.order.number,
            "dealer": p.dealer,
            "released_at": p.order.accepted_at.isoformat() if p.order.accepted_at else None,
            "expected_date": p.expected.isoformat() if p.expected else None,
            "pieces": [_piece_json(piece, p.labels[piece.id]) for piece in p.pieces],
        }
        for p in page
    ]
    return web.json_response({"items": items, "next_cursor": str(page[-1].order.id) if more else None})


@routes.get("/api/v1/products")
@api_auth
async def products(request: web.Request) -> web.Response:
    rows = await Product.filter(active=True).order_by("series", "model")
    return web.json_response([{"id": p.id, "series": p.series, "model": p.model, "name": p.name} for p in rows])


@routes.get("/api/v1/customers/phone-check")
@api_auth
async def phone_check(request: web.Request) -> web.Response:
    phone = normalize_phone(request.query.get("phone", ""))
    if not is_mobile(phone):
        return web.json_response({"valid": False, "message": "手机号应为 11 位数字，以 1 开头", "orders": []})
    # The count helps spot a returning customer anywhere in the company; the numbers only of what
    # this member may see.
    numbers = await orders_with_phone(phone)
    visible = [o.number for o in await search_orders(api_staff(request), OrderFilter(q=phone), limit=5)]
    message = ""
    if numbers:
        message = f"这个手机号已有 {len(numbers)} 个订单" + (f"：{'、'.join(visible)}" if visible else "")
    return web.json_response({"valid": True, "message": message, "orders": visible})


@routes.get("/api/v1/orders/{number}")
@api_auth
async def order(request: web.Request) -> web.Response:
    try:
        found = await get_order_for(api_staff(request), request.match_info["number"])
    except WorkflowError as exc:
        return web.json_response({"error": exc.message}, status=404)
    staff, ip = api_staff(request), request.remote or ""
    await audit.record(AuditAction.ORDER_VIEW, actor=staff, order=found, ip=ip, via="API")
    view = await order_view(found, with_timeline=True, with_money=sees_money(staff))
    return web.json_response(
        {
            "number": view.number,
            "state": view.state,
            "state_label": view.state_label,
            "customer_name": view.customer_name,
            "phone": view.phone_masked,  # the full number only on the order page, for who must call
            "address": view.address,
            "items": view.items,
            "sales": view.sales_name,
            "expected_measure_date": view.expected_measure_date.isoformat() if view.expected_measure_date else None,
            "timeline": view.timeline,
        }
    )


def _openapi() -> dict[str, Any]:
    error = {"type": "object", "properties": {"error": {"type": "string"}}}

    def refused(why: str) -> dict[str, Any]:
        return {"description": why, "content": {"application/json": {"schema": error}}}

    piece = {
        "type": "object",
        "properties": {
            "production_number": {"type": "string"},
            "state": {"type": "string"},
            "state_label": {"type": "string"},
            "expected_date": {"type": ["string", "null"], "format": "date"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relay (接力) API", "version": "1"},
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "relay_session"},
                "token": {"type": "http", "scheme": "bearer", "description": "a service token (relay token create)"},
            }
        },
        "security": [{"session": []}],
        "paths": {
            "/api/v1/pieces/{production_number}/state": {
                "post": {
                    "summary": "Move a production piece: queued -> in_production -> finished -> shipped",
                    "description": "A customer order's piece (P2612-000123-01) or a dealer order's (D2612-000012-01).",
                    "security": [{"token": ["pieces:write"]}],
                    "parameters": [
                        {"name": "production_number", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["state"],
                                    "properties": {
                                        "state": {"type": "string", "enum": [s.value for s in PieceState]},
                                        "expected_date": {"type": "string", "format": "date"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the piece as it is now",
                            "content": {"application/json": {"schema": piece}},
                        },
                        "400": {"description": "bad body", "content": {"application/json": {"schema": error}}},
                        "401": refused("no, unknown or revoked token"),
                        "403": refused("the token lacks the scope"),
                        "404": refused("unknown production number"),
                        "409": refused("the move is not allowed from the piece's state"),
                    },
                }
            },
            "/api/v1/leads": {
                "post": {
                    "summary": "Book a showroom visit (预约); it is assigned to a consultant of the store at once",
                    "security": [{"token": ["leads:write"]}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["store_id", "name", "phone"],
                                    "properties": {
                                        "store_id": {"type": "integer"},
                                        "name": {"type": "string"},
                                        "phone": {"type": "string", "description": "11 digits, starting with 1"},
                                        "need_level": {"type": "string", "enum": ["高", "中", "低"]},
                                        "product_ids": {"type": "array", "items": {"type": "integer"}},
                                        "products": {"type": "string"},
                                        "wanted_at": {"type": "string", "format": "date-time"},
                                        "note": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {"description": "the booking: number, state, consultant (null: queued)"},
                        "400": refused("a field is wrong (the message names it)"),
                        "401": refused("no, unknown or revoked token"),
                        "403": refused("the token lacks the scope"),
                    },
                },
                "get": {
                    "summary": "The newest bookings, phones masked",
                    "security": [{"token": ["leads:read"]}],
                    "parameters": [
                        {
                            "name": "state",
                            "in": "query",
                            "schema": {"type": "string", "enum": [s.value for s in LeadState]},
                        }
                    ],
                    "responses": {
                        "200": {"description": "items"},
                        "401": refused("no, unknown or revoked token"),
                        "403": refused("the token lacks the scope"),
                    },
                },
            },
            "/api/v1/production-orders": {
                "get": {
                    "summary": "Production orders with pieces still at the factory, oldest release first",
                    "security": [{"token": ["production:read"]}],
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["waiting"]}},
                        {
                            "name": "kind",
                            "in": "query",
                            "description": "customer orders (the default) or dealers' orders",
                            "schema": {"type": "string", "enum": ["customer", "dealer"]},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "next_cursor of the previous page",
                        },
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                    ],
                    "responses": {
                        "200": {"description": "items (with their pieces), next_cursor (null: last page)"},
                        "401": refused("no, unknown or revoked token"),
                        "403": refused("the token lacks the scope"),
                    },
                }
            },
            "/api/v1/stock": {
                "get": {
                    "summary": "Stock levels per product and warehouse: on hand, reserved, available, safety level",
                    "security": [{"token": ["stock:read"]}],
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "series/model/name"},
                        {"name": "warehouse_id", "in": "query", "schema": {"type": "integer"}},
                        {"name": "below_safety", "in": "query", "schema": {"type": "string", "enum": ["1", "true"]}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    ],
                    "responses": {
                        "200": {"description": "items, next_cursor (null: last page)"},
                        "400": refused("a parameter is not a number"),
                        "401": refused("no, unknown or revoked token"),
                        "403": refused("the token lacks the scope"),
                    },
                }
            },
            "/api/v1/products": {
                "get": {
                    "summary": "The active product catalogue",
                    "responses": {"200": {"description": "products"}, "401": {"description": "no session"}},
                }
            },
            "/api/v1/customers/phone-check": {
                "get": {
                    "summary": "Is the phone valid, and does it already have orders",
                    "parameters": [{"name": "phone", "in": "query", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "valid, message, orders"}},
                }
            },
            "/api/v1/orders/{number}": {
                "get": {
                    "summary": "An order with its timeline, if the caller may see it",
                    "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "the order"},
                        "404": refused("unknown or not visible"),
                    },
                }
            },
        },
    }


@routes.post("/api/v1/leads")
@token_auth("leads:write")
async def create_lead_api(request: web.Request) -> web.Response:
    """Book a showroom visit from another system (a website, a call centre): assigned as any booking."""
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("请求体应为 JSON") from None
    if not isinstance(body, dict):
        raise Invalid("请求体应为 JSON 对象")
    try:
        store_id = int(body.get("store_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid("请提供门店 store_id", "store_id") from None
    wanted = None
    if body.get("wanted_at"):
        try:
            wanted = datetime.fromisoformat(str(body["wanted_at"]))
        except ValueError:
            raise Invalid("wanted_at 应为 ISO 8601 时间，例如 2026-12-05T14:00:00+08:00", "wanted_at") from None
        if wanted.tzinfo is None:
            wanted = local_moment(wanted.date(), wanted.time())
    ids = body.get("product_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise Invalid("product_ids 应为产品编号的列表", "product_ids")
    data = LeadInput(
        name=str(body.get("name") or ""),
        phone=str(body.get("phone") or ""),
        need_level=str(body.get("need_level") or ""),
        product_ids=tuple(ids),
        products=str(body.get("products") or ""),
        wanted_at=wanted,
        note=str(body.get("note") or ""),
    )
    token = token_of(request)
    lead = await create_lead(actor=token, store=await store_for(token, store_id), data=data, source=LeadSource.API)
    return web.json_response(await _lead_json(lead), status=201)


async def _lead_json(lead: Lead) -> dict[str, Any]:
    consultant = await Staff.get_or_none(id=lead.consultant_id) if lead.consultant_id else None
    return {
        "number": lead.number,
        "name": lead.name,
        "phone": mask_phone(lead_phone(lead)),
        "store_id": lead.store_id,
        "state": lead.state.value,
        "state_label": lead.state.label,
        "consultant": consultant.name if consultant else None,
        "created_at": lead.created_at.isoformat(),
    }


@routes.get("/api/v1/leads")
@token_auth("leads:read")
async def list_leads(request: web.Request) -> web.Response:
    """The newest bookings (at most 200), of one state if asked."""
    query = Lead.all()
    if state := request.query.get("state"):
        if state not in {s.value for s in LeadState}:
            raise Invalid(f"未知的状态：{state[:20]}", "state")
        query = query.filter(state=state)
    return web.json_response({"items": [await _lead_json(x) for x in await query.order_by("-id").limit(200)]})


@routes.get("/api/v1/stock")
@token_auth("stock:read")
async def stock_levels(request: web.Request) -> web.Response:
    """Stock levels of every warehouse, by id, a page at a time."""
    try:
        after = int(request.query.get("cursor") or 0)
        limit = min(max(int(request.query.get("limit") or 100), 1), 500)
        warehouse_id = int(request.query["warehouse_id"]) if request.query.get("warehouse_id") else None
    except ValueError:
        raise Invalid("cursor、limit 和 warehouse_id 应为整数", "cursor") from None
    below = request.query.get("below_safety") in ("1", "true")
    found = await stock.level_page(
        after=after, limit=limit + 1, query=request.query.get("q", ""), warehouse_id=warehouse_id, below_only=below
    )
    page, more = found[:limit], len(found) > limit
    items = [
        {
            "product_id": level.product_id,
            "series": level.product.series,
            "model": level.product.model,
            "name": level.product.name,
            "stock_kind": level.product.stock_kind.value if level.product.stock_kind else None,
            "unit": level.product.unit,
            "warehouse_id": level.warehouse_id,
            "warehouse": level.warehouse.name,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available,
            "safety_level": level.safety_level,
            "below_safety": level.available < level.safety_level,
        }
        for level in page
    ]
    return web.json_response({"items": items, "next_cursor": str(page[-1].id) if more else None})


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(_openapi())
