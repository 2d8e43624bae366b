"""The JSON API under /api/v1 (same session as the H5 pages), described at /api/v1/openapi.json."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web

from infra.security import is_mobile, normalize_phone
from models import AuditAction, Product
from webviews.auth import STAFF, Handler, api_staff, over_limit, session_staff
from workflow import audit
from workflow.errors import WorkflowError
from workflow.scope import get_order_for
from workflow.search import OrderFilter, search_orders
from workflow.selectors import order_view, orders_with_phone

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
    view = await order_view(found, with_timeline=True)
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
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relay (接力) API", "version": "1"},
        "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "relay_session"}}},
        "security": [{"session": []}],
        "paths": {
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
                        "404": {
                            "description": "unknown or not visible",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
        },
    }


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(_openapi())
