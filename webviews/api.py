"""The JSON API under /api/v1, described at /api/v1/openapi.json (webviews/openapi.py): the endpoints the
H5 pages call with a member's session, and the factory's and the booking systems' (a service token).
The integration resources (orders, customers, catalogue, payments, webhooks) are webviews/integration.py;
what they share (tokens, errors, bodies, cursor pages, idempotency keys) is webviews/apikit.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

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
    Staff,
    StockLevel,
)
from webviews.apikit import (
    Body,
    api,
    encode_cursor,
    json_response,
    member_of,
    page,
    page_params,
    token_of,
    token_or_none,
    writes,
)
from webviews.integration import order_json, product_json
from webviews.openapi import document
from workflow import audit, stock
from workflow.dealer_pieces import waiting_dealer_orders
from workflow.errors import Invalid
from workflow.lead_views import lead_phone
from workflow.leads import LeadInput, create_lead, store_for
from workflow.production import move_numbered, waiting_orders
from workflow.scope import get_order_for
from workflow.search import OrderFilter, search_orders
from workflow.selectors import orders_with_phone

routes = web.RouteTableDef()


@routes.post("/api/v1/pieces/{production_number}/state")
@api("pieces:write")
@writes
async def piece_state(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    state = body.text("state", required=True, max_len=32)
    try:
        target = PieceState(state)
    except ValueError:
        raise Invalid(f"未知的状态：{state}（可选：{'、'.join(PieceState)}）", "state") from None
    expected = body.day("expected_date")
    # A customer order's piece (P…) or a dealer order's (D…), each moved by its own table's row.
    number = request.match_info["production_number"]
    moved = await move_numbered(actor=token_of(request), number=number, target=target, expected_date=expected)
    return 200, piece_json(moved)


def piece_json(piece: OrderPiece | DealerPiece, label: str = "") -> dict[str, Any]:
    return {
        "production_number": piece.production_number,
        "state": piece.state.value,
        "state_label": piece.state.label,
        "expected_date": piece.expected_date.isoformat() if piece.expected_date else None,
        **({"label": label} if label else {}),
    }


@routes.get("/api/v1/production-orders")
@api("production:read")
async def production_orders(request: web.Request) -> web.Response:
    if request.query.get("state", "waiting") != "waiting":
        raise Invalid("state 目前只支持 waiting", "state")
    after, limit = page_params(request)
    kind = request.query.get("kind", "customer")
    if kind == "dealer":
        return await _dealer_production_orders(after, limit)
    if kind != "customer":
        raise Invalid("kind 应为 customer 或 dealer", "kind")
    orders = await waiting_orders(after=after, limit=limit + 1)
    rows, more = orders[:limit], len(orders) > limit
    # No customer's name, phone or address: the factory makes pieces, it does not call anyone.
    items = [
        {
            "production_order_number": p.order.production_order_number,
            "order_number": p.order.number,
            "released_at": p.order.released_at.isoformat() if p.order.released_at else None,
            "expected_date": p.expected.isoformat() if p.expected else None,
            "pieces": [piece_json(piece, p.labels[piece.id]) for piece in p.pieces],
        }
        for p in rows
    ]
    return json_response({"items": items, "next_cursor": encode_cursor(rows[-1].order.id) if more else None})


async def _dealer_production_orders(after: int, limit: int) -> web.Response:
    """Dealers' accepted orders with pieces still at the factory: the same shape, the dealer named."""
    orders = await waiting_dealer_orders(after=after, limit=limit + 1)
    rows, more = orders[:limit], len(orders) > limit
    items = [
        {
            "production_order_number": p.order.factory_number,
            "order_number": p.order.number,
            "dealer": p.dealer,
            "released_at": p.order.accepted_at.isoformat() if p.order.accepted_at else None,
            "expected_date": p.expected.isoformat() if p.expected else None,
            "pieces": [piece_json(piece, p.labels[piece.id]) for piece in p.pieces],
        }
        for p in rows
    ]
    return json_response({"items": items, "next_cursor": encode_cursor(rows[-1].order.id) if more else None})


@routes.get("/api/v1/stock")
@api("stock:read")
async def stock_levels(request: web.Request) -> web.Response:
    """Stock levels of every warehouse (a service token sees the company's stock), by id, a page at a time."""
    after, limit = page_params(request)
    raw = request.query.get("warehouse_id", "")
    if raw and not (raw.isdigit() and 1 <= int(raw) < 2**31):
        raise Invalid("warehouse_id 应为仓库编号（正整数）", "warehouse_id")
    below = request.query.get("below_safety", "false")
    if below not in ("true", "false", "1", "0"):
        raise Invalid("below_safety 应为 true 或 false", "below_safety")
    found = await stock.level_page(
        after=after,
        limit=limit + 1,
        query=request.query.get("q", ""),
        warehouse_id=int(raw) if raw else None,
        below_only=below in ("true", "1"),
    )
    rows, more = found[:limit], len(found) > limit
    items = [level_json(level) for level in rows]
    return json_response({"items": items, "next_cursor": encode_cursor(rows[-1].id) if more and rows else None})


def level_json(level: StockLevel) -> dict[str, Any]:
    return {
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


async def _levels(warehouse_id: int, product_ids: list[int]) -> list[dict[str, Any]]:
    rows = await StockLevel.filter(warehouse_id=warehouse_id, product_id__in=product_ids).order_by("id")
    for row in rows:
        await row.fetch_related("product", "warehouse")
    return [level_json(row) for row in rows]


@routes.post("/api/v1/stock/receipts")
@api("stock:write", member=True)
@writes
async def stock_receipt(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """Goods received into a warehouse (入库), or returned to it (退货入库, `returned`), as the warehouse keeper
    the token acts as records them on the 入库 page: every line or none."""
    warehouse_id = body.integer("warehouse_id", required=True)
    assert warehouse_id is not None
    raw = body.data.get("lines")
    if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
        raise Invalid('请提供 lines，例如 [{"product_id": 12, "quantity": 5}]', "lines")
    lines = []
    for entry in raw:
        line = Body(entry)
        product_id, count = line.integer("product_id", required=True), line.integer("quantity", required=True)
        assert product_id is not None and count is not None
        lines.append(stock.Line(product_id, count))
    await stock.receive(
        actor=member_of(request),
        warehouse_id=warehouse_id,
        lines=lines,
        reason=body.text("reason", max_len=255),
        ref=body.text("ref", max_len=64),
        returned=body.boolean("returned", False),
    )
    return 201, {"items": await _levels(warehouse_id, [line.product_id for line in lines])}


@routes.post("/api/v1/stock/counts")
@api("stock:write", member=True)
@writes
async def stock_count(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """A stock-take (盘点) of one product in one warehouse: the counted quantity becomes on hand."""
    warehouse_id = body.integer("warehouse_id", required=True)
    product_id = body.integer("product_id", required=True)
    counted = body.integer("counted", required=True, minimum=0)
    assert warehouse_id is not None and product_id is not None and counted is not None
    await stock.count(
        actor=member_of(request),
        warehouse_id=warehouse_id,
        product_id=product_id,
        counted=counted,
        reason=body.text("reason", max_len=255),
    )
    [level] = await _levels(warehouse_id, [product_id])
    return 201, level


@routes.get("/api/v1/products")
@api("products:read", session=True)
async def products(request: web.Request) -> web.Response:
    query = Product.all()
    if request.query.get("active", "true") not in ("true", "false", "all"):
        raise Invalid("active 应为 true、false 或 all", "active")
    if request.query.get("active", "true") != "all":
        query = query.filter(active=request.query.get("active", "true") == "true")
    rows, cursor = await page(request, query)
    return json_response({"items": [product_json(p) for p in rows], "next_cursor": cursor})


@routes.get("/api/v1/customers/phone-check")
@api("", session=True)
async def phone_check(request: web.Request) -> web.Response:
    phone = normalize_phone(request.query.get("phone", ""))
    if not is_mobile(phone):
        return json_response({"valid": False, "message": "手机号应为 11 位数字，以 1 开头", "orders": []})
    # The count helps spot a returning customer anywhere in the company; the numbers only of what
    # this member may see.
    numbers = await orders_with_phone(phone)
    visible = [o.number for o in await search_orders(member_of(request), OrderFilter(q=phone), limit=5)]
    message = ""
    if numbers:
        message = f"这个手机号已有 {len(numbers)} 个订单" + (f"：{'、'.join(visible)}" if visible else "")
    return json_response({"valid": True, "message": message, "orders": visible})


@routes.get("/api/v1/orders/{number}")
@api("orders:read", member=True, session=True)
async def order(request: web.Request) -> web.Response:
    staff = member_of(request)
    found = await get_order_for(staff, request.match_info["number"])
    token = token_or_none(request)
    ip = request.remote or ""
    if token is None:
        await audit.record(AuditAction.ORDER_VIEW, actor=staff, order=found, ip=ip, via="API")
    else:
        await audit.record(AuditAction.ORDER_VIEW, actor=staff, order=found, ip=ip, via="API", token=token.name)
    return json_response(await order_json(found, staff, token, with_timeline=True))


@routes.post("/api/v1/leads")
@api("leads:write")
@writes
async def create_lead_api(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """Book a showroom visit from another system (a website, a call centre): assigned as any booking."""
    store_id = body.integer("store_id", required=True)
    wanted = None
    if raw := body.text("wanted_at", max_len=40):
        try:
            wanted = datetime.fromisoformat(raw)
        except ValueError:
            raise Invalid("wanted_at 应为 ISO 8601 时间，例如 2026-12-05T14:00:00+08:00", "wanted_at") from None
        if wanted.tzinfo is None:
            wanted = local_moment(wanted.date(), wanted.time())
    ids = body.data.get("product_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Invalid("product_ids 应为产品编号的列表", "product_ids")
    data = LeadInput(
        name=body.text("name", required=True, max_len=64),
        phone=body.text("phone", required=True, max_len=32),
        need_level=body.text("need_level", max_len=8),
        product_ids=tuple(ids),
        products=body.text("products", max_len=255),
        wanted_at=wanted,
        note=body.text("note", max_len=500),
    )
    token = token_of(request)
    assert store_id is not None
    lead = await create_lead(actor=token, store=await store_for(token, store_id), data=data, source=LeadSource.API)
    return 201, await lead_json(lead)


async def lead_json(lead: Lead) -> dict[str, Any]:
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
@api("leads:read")
async def list_leads(request: web.Request) -> web.Response:
    """Bookings in the order they came, of one state if asked; phones masked."""
    query = Lead.all()
    if state := request.query.get("state"):
        if state not in {s.value for s in LeadState}:
            raise Invalid(f"未知的状态：{state[:20]}", "state")
        query = query.filter(state=state)
    rows, cursor = await page(request, query)
    return json_response({"items": [await lead_json(x) for x in rows], "next_cursor": cursor})


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return json_response(document())
