"""The integration API's resources (an ERP such as 1C or 金蝶, a finance or supply-chain system): orders,
customers, the catalogue and price lists, payments, webhooks. Every write calls the same workflow
function the H5 form or the card calls, as the member the token acts as, so every rule and refusal is
the table's; the endpoints only read the JSON and write the answer. Stock endpoints follow the same
pattern (`@api(scope)`, `@writes`, `page`) in their own module."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from infra.security import mask_phone
from models import (
    News,
    Order,
    OrderState,
    Payment,
    PaymentKind,
    PaymentMethod,
    PriceList,
    PriceListEntry,
    Product,
    ServiceToken,
    Staff,
    TaskKind,
    WebhookDelivery,
    WebhookSubscription,
)
from webviews.apikit import Body, api, json_response, member_of, page, token_of, writes
from workflow import catalog, news, webhooks
from workflow.changes import cancel_order, request_remeasure, undo_cancel
from workflow.design import finish_design
from workflow.errors import Invalid, NotFound
from workflow.install import finish_install
from workflow.integration import customer_records, customers_for, mask_address, order_items, orders_for, payments_for
from workflow.items import ItemInput
from workflow.measure import finish_measure
from workflow.order_lifecycle import ORDER
from workflow.orders import create_order, edit_customer
from workflow.payments import confirm_design, record_payment
from workflow.pricing import LinePrice
from workflow.privacy import phone_of, sees_money
from workflow.scope import get_order_for
from workflow.tasks import dispatch_task
from workflow.timeline import timeline

routes = web.RouteTableDef()


# Orders


async def order_json(
    order: Order, member: Staff, token: ServiceToken | None, *, with_timeline: bool = False
) -> dict[str, Any]:
    """An order as the member sees it. The phone is always masked (the full number is for who must call,
    on the order page); the address too for a token (a customer's full record is /customers, with
    customers:pii)."""
    customer = await order.customer
    sales = await Staff.get(id=order.sales_id)
    money = sees_money(member)
    phone = phone_of(customer)
    return {
        "number": order.number,
        "state": order.state.value,
        "state_label": order.state.label,
        "customer_id": customer.id,
        "customer_name": customer.name,
        "phone": mask_phone(phone),
        "address": mask_address(order.address) if token is not None else order.address,
        "sales": sales.name,
        "sales_userid": sales.userid,
        "org_unit_id": order.org_unit_id,
        "expected_measure_date": order.expected_measure_date.isoformat() if order.expected_measure_date else None,
        "items": await order_items(order, with_money=money),
        "contract_amount": str(order.contract_amount) if money and order.contract_amount is not None else None,
        "paid_amount": str(order.paid_amount) if money else None,
        "production_order_number": order.production_order_number,
        "created_at": order.created_at.isoformat(),
        "state_since": order.state_since.isoformat() if order.state_since else None,
        **({"timeline": await timeline(order, with_money=money)} if with_timeline else {}),
    }


@routes.get("/api/v1/orders")
@api("orders:read", member=True)
async def list_orders(request: web.Request) -> web.Response:
    member = member_of(request)
    query = await orders_for(member)
    if state := request.query.get("state"):
        if state not in {s.value for s in OrderState}:
            raise Invalid(f"未知的状态：{state[:20]}", "state")
        query = query.filter(state=state)
    rows, cursor = await page(request, query)
    token = token_of(request)
    return json_response({"items": [await order_json(o, member, token) for o in rows], "next_cursor": cursor})


def _items(body: Body) -> list[ItemInput]:
    items = []
    for line in body.objects("items", required=True):
        unit_price = line.money("unit_price")
        discount = line.money("discount_percent")
        items.append(
            ItemInput(
                product_id=line.integer("product_id", required=True) or 0,
                room=line.text("room", max_len=64),
                quantity=line.integer("quantity", maximum=99) or 1,
                price=LinePrice(unit_price=unit_price, discount_pct=discount),
            )
        )
    return items


@routes.post("/api/v1/orders")
@api("orders:write", member=True)
@writes
async def create_order_api(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """Open an order as the H5 form does (销售开单): the same checks, prices from the seller's price list."""
    member = member_of(request)
    order = await create_order(
        actor=member,
        number=body.text("number", required=True, max_len=32),
        customer_name=body.text("customer_name", required=True, max_len=64),
        phone=body.text("phone", required=True, max_len=32),
        address=body.text("address", required=True, max_len=255),
        items=_items(body),
        expected_measure_date=body.day("expected_measure_date"),
        note=body.text("note", max_len=2000),
        order_discount=body.money("order_discount"),
    )
    return 201, await order_json(order, member, token_of(request))


# The transitions a machine may make, each by the workflow function its page or card calls. The others
# need a person on the spot (photos, drawings, the customer's signature) or a page of their own.
Runner = Callable[[Staff, Order, Body], Awaitable[object]]


def _dispatch(kind: TaskKind) -> Runner:
    async def run(actor: Staff, order: Order, body: Body) -> object:
        worker, day = body.integer("worker_id", required=True), body.day("date", required=True)
        assert worker is not None and day is not None
        return await dispatch_task(actor=actor, order=order, kind=kind, worker_id=worker, day=day)

    return run


async def _confirm(actor: Staff, order: Order, body: Body) -> object:
    amount = body.money("amount", required=True)
    assert amount is not None
    return await confirm_design(
        actor=actor,
        order=order,
        contract_amount=body.money("contract_amount"),
        first_payment=amount,
        method=_choice(PaymentMethod, body, "method"),
        kind=_choice(PaymentKind, body, "kind"),
        note=body.text("note", max_len=255),
    )


async def _edit_customer(actor: Staff, order: Order, body: Body) -> object:
    """The customer's name, phone or address corrected, as 修改客户信息 does: with a reason, on the timeline."""
    return await edit_customer(
        actor=actor,
        order=order,
        customer_name=body.text("customer_name", required=True, max_len=64),
        phone=body.text("phone", max_len=20),
        address=body.text("address", required=True, max_len=255),
        reason=body.text("reason", required=True, max_len=255),
    )


TRANSITIONS: dict[str, Runner] = {
    "dispatch_measure": _dispatch(TaskKind.MEASURE),
    "finish_measure": lambda actor, order, body: finish_measure(actor=actor, order=order),
    "finish_design": lambda actor, order, body: finish_design(actor=actor, order=order),
    "confirm": _confirm,
    "dispatch_install": _dispatch(TaskKind.INSTALL),
    "finish_install": lambda actor, order, body: finish_install(actor=actor, order=order),
    "remeasure": lambda actor, order, body: request_remeasure(
        actor=actor, order=order, reason=body.text("reason", required=True)
    ),
    "cancel": lambda actor, order, body: cancel_order(
        actor=actor, order=order, reason=body.text("reason", required=True)
    ),
    "undo_cancel": lambda actor, order, body: undo_cancel(actor=actor, order=order),
    "edit_customer": _edit_customer,
}
assert set(TRANSITIONS) <= {t.name for t in ORDER}, set(TRANSITIONS) - {t.name for t in ORDER}


def _choice(enum: Any, body: Body, name: str) -> Any:
    value = body.text(name, required=True, max_len=16)
    try:
        return enum(value)
    except ValueError:
        raise Invalid(f"{name} 应为 {'、'.join(e.value for e in enum)} 之一", name) from None


@routes.post("/api/v1/orders/{number}/transitions")
@api("orders:write", member=True)
@writes
async def order_transition(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """Move the order by a row of the order table (workflow/order_lifecycle.py), refused as the table
    refuses (403 role or scope, 409 state)."""
    member = member_of(request)
    name = body.text("transition", required=True, max_len=64)
    if name not in {t.name for t in ORDER}:
        raise Invalid(f"未知的操作：{name}", "transition")
    run = TRANSITIONS.get(name)
    if run is None:
        raise Invalid(
            f"“{ORDER[name].label}”需要在企业微信或 H5 页面上完成（可用：{'、'.join(TRANSITIONS)}）", "transition"
        )
    order = await get_order_for(member, request.match_info["number"])
    await run(member, order, body)
    await order.refresh_from_db()
    return 200, await order_json(order, member, token_of(request))


@routes.get("/api/v1/orders/{number}/transitions")
@api("orders:read", member=True)
async def order_available(request: web.Request) -> web.Response:
    """What the token's member may do to the order now (the table's `available`): the only source of the
    choices, as of the buttons on the pages."""
    member = member_of(request)
    order = await get_order_for(member, request.match_info["number"])
    offered = await ORDER.available(member, order)
    return json_response(
        {"items": [{"name": t.name, "label": t.label, "via_api": t.name in TRANSITIONS} for t in offered]}
    )


# Customers (PIPL: masked unless customers:pii, every full record audited)


def _customer_json(record: Any) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "phone": record.phone, "orders": record.orders, "full": record.full}


@routes.get("/api/v1/customers")
@api("customers:read", member=True)
async def list_customers(request: web.Request) -> web.Response:
    member = member_of(request)
    rows, cursor = await page(request, await customers_for(member))
    records = await customer_records(rows, member=member, token=token_of(request), ip=request.remote or "")
    return json_response({"items": [_customer_json(r) for r in records], "next_cursor": cursor})


@routes.get("/api/v1/customers/{id}")
@api("customers:read", member=True)
async def get_customer(request: web.Request) -> web.Response:
    member = member_of(request)
    raw = request.match_info["id"]
    found = await (await customers_for(member)).filter(id=int(raw)).first() if raw.isdigit() and len(raw) < 10 else None
    if found is None:
        raise NotFound(f"没有找到客户 {raw[:20]}")
    (record,) = await customer_records([found], member=member, token=token_of(request), ip=request.remote or "")
    return json_response(_customer_json(record))


# Catalogue and price lists (writes as an admin would on /h5/admin/products)


def _product_input(body: Body) -> catalog.ProductInput:
    specs = body.data.get("specs")
    if specs is not None and not isinstance(specs, dict):
        raise Invalid('specs 应为对象，例如 {"颜色": ["亮银", "哑黑"]}', "specs")
    return catalog.ProductInput(
        series=body.text("series", required=True, max_len=64),
        model=body.text("model", required=True, max_len=64),
        name=body.text("name", max_len=128),
        unit=body.text("unit", max_len=16) or "件",
        list_price=body.money("list_price"),
        specs=catalog.parse_specs(json.dumps(specs, ensure_ascii=False)) if specs else {},
    )


@routes.post("/api/v1/products")
@api("products:write", member=True)
@writes
async def create_product(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    product = await catalog.save_product(actor=member_of(request), product_id=None, form=_product_input(body))
    return 201, product_json(product)


@routes.put("/api/v1/products/{id}")
@api("products:write", member=True)
@writes
async def update_product(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    member = member_of(request)
    product_id = _id(request)
    product = await catalog.save_product(actor=member, product_id=product_id, form=_product_input(body))
    active = body.boolean("active", product.active)
    if active != product.active:
        product = await catalog.set_product_active(actor=member, product_id=product_id, active=active)
    return 200, product_json(product)


def product_json(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "series": p.series,
        "model": p.model,
        "name": p.name,
        "unit": p.unit,
        "list_price": str(p.list_price) if p.list_price is not None else None,
        "specs": p.specs,
        "active": p.active,
        "production_days": p.production_days,
    }


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"没有编号为 {raw[:20]} 的记录")
    return int(raw)


def _price_list_json(p: PriceList) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "org_unit_id": p.org_unit_id,
        "valid_from": p.valid_from.isoformat(),
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
    }


@routes.get("/api/v1/price-lists")
@api("products:read")
async def list_price_lists(request: web.Request) -> web.Response:
    rows, cursor = await page(request, PriceList.all())
    return json_response({"items": [_price_list_json(p) for p in rows], "next_cursor": cursor})


@routes.post("/api/v1/price-lists")
@api("products:write", member=True)
@writes
async def create_price_list(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    form = catalog.PriceListInput(
        name=body.text("name", required=True, max_len=64),
        org_unit_id=body.integer("org_unit_id"),
        valid_from=body.day("valid_from", required=True),
        valid_to=body.day("valid_to"),
    )
    price_list = await catalog.save_price_list(actor=member_of(request), price_list_id=None, form=form)
    return 201, _price_list_json(price_list)


@routes.get("/api/v1/price-lists/{id}/entries")
@api("products:read")
async def list_entries(request: web.Request) -> web.Response:
    price_list = await catalog.price_list_of(_id(request))
    rows, cursor = await page(request, PriceListEntry.filter(price_list_id=price_list.id))
    items = [{"product_id": e.product_id, "price": str(e.price)} for e in rows]
    return json_response({"items": items, "next_cursor": cursor})


@routes.put("/api/v1/price-lists/{id}/entries")
@api("products:write", member=True)
@writes
async def upsert_entries(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """Set products' prices on the list, all or none; a null price takes the product off the list."""
    prices = []
    for entry in body.objects("entries", required=True, max_items=500):
        product_id = entry.integer("product_id", required=True)
        assert product_id is not None
        prices.append((product_id, entry.money("price")))
    list_id = _id(request)
    await catalog.set_entries(actor=member_of(request), price_list_id=list_id, prices=prices)
    entries = await PriceListEntry.filter(price_list_id=list_id, product_id__in=[p for p, _ in prices])
    return 200, {"items": [{"product_id": e.product_id, "price": str(e.price)} for e in entries]}


# Payments


def _payment_json(p: Payment, order_number: str) -> dict[str, Any]:
    return {
        "id": p.id,
        "order_number": order_number,
        "amount": str(p.amount),
        "kind": p.kind.value,
        "method": p.method.value,
        "note": p.note,
        "recorded_at": p.created_at.isoformat(),
        "confirmed": p.confirmed_at is not None,
        "voided": p.voided_at is not None,
    }


@routes.get("/api/v1/payments")
@api("payments:read", member=True)
async def list_payments(request: web.Request) -> web.Response:
    query = await payments_for(member_of(request))
    if number := request.query.get("order"):
        query = query.filter(order__number=number.strip().upper()[:32])
    rows, cursor = await page(request, query)
    numbers = dict(await Order.filter(id__in=[p.order_id for p in rows]).values_list("id", "number"))
    return json_response({"items": [_payment_json(p, numbers[p.order_id]) for p in rows], "next_cursor": cursor})


@routes.post("/api/v1/orders/{number}/payments")
@api("payments:write", member=True)
@writes
async def create_payment(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """Record a later payment (the balance or part of it) as sales does on the payments page."""
    member = member_of(request)
    order = await get_order_for(member, request.match_info["number"])
    amount = body.money("amount", required=True)
    assert amount is not None
    payment = await record_payment(
        actor=member,
        order=order,
        amount=amount,
        method=_choice(PaymentMethod, body, "method"),
        kind=_choice(PaymentKind, body, "kind"),
        note=body.text("note", max_len=255),
    )
    return 201, _payment_json(payment, order.number)


# News (公告): an ERP posting a notice (a price change, a promotion) as the member the token acts as


@routes.post("/api/v1/news")
@api("news:write", member=True)
@writes
async def post_news(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    """Posted as on 发布公告, to the same audience rules (a manager within their own part of the company);
    a price list needs its file, which only the page takes."""
    roles, unit_ids = body.data.get("roles") or [], body.data.get("unit_ids")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Invalid('roles 应为角色代码的列表，例如 ["sales"]', "roles")
    if not isinstance(unit_ids, list) or not all(isinstance(u, int) and 1 <= u < 2**31 for u in unit_ids):
        raise Invalid("unit_ids 应为组织编号的列表", "unit_ids")
    form = news.NewsInput(
        title=body.text("title", required=True, max_len=news.MAX_TITLE).strip(),
        body=body.text("body", max_len=news.MAX_BODY).strip(),
        kind=body.text("kind", required=True, max_len=16),
        roles=roles,
        unit_ids=unit_ids,
    )
    posted = await news.post_news(author=member_of(request), form=form)
    return 201, await _news_json(member_of(request), posted)


@routes.get("/api/v1/news/{id}")
@api("news:read", member=True)
async def news_receipts(request: web.Request) -> web.Response:
    """An item the member posted (an admin: any), with who has read it."""
    member = member_of(request)
    item = await news.news_for(member, _id(request))
    return json_response(await _news_json(member, item))


async def _news_json(member: Staff, item: News) -> dict[str, Any]:
    seen = await news.receipts(member, item)

    def person(r: news.Receiver) -> dict[str, Any]:
        return {"name": r.name, "unit": r.unit, "read_at": r.read_at.isoformat() if r.read_at else None}

    return {
        "id": item.id,
        "title": item.title,
        "kind": item.kind.value,
        "created_at": item.created_at.isoformat(),
        "withdrawn": item.withdrawn_at is not None,
        "audience": seen.audience,
        "delivered": seen.delivered,
        "read": [person(r) for r in seen.read],
        "unread": [person(r) for r in seen.unread],
    }


# Webhooks


def _subscription_json(s: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "url": s.url,
        "events": s.event_list,
        "active": s.active,
        "created_at": s.created_at.isoformat(),
    }


def delivery_json(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "subscription_id": d.subscription_id,
        "state": d.state.value,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "next_attempt_at": d.next_attempt_at.isoformat(),
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        "payload": d.payload,
    }


def _subscription_input(body: Body) -> webhooks.SubscriptionInput:
    return webhooks.SubscriptionInput(
        name=body.text("name", required=True, max_len=64),
        url=body.text("url", required=True, max_len=500),
        events=body.strings("events", required=True, max_items=len(webhooks.EVENT_TYPES)),
    )


@routes.get("/api/v1/webhooks")
@api("webhooks:write")
async def list_webhooks(request: web.Request) -> web.Response:
    rows, cursor = await page(request, WebhookSubscription.all())
    return json_response({"items": [_subscription_json(s) for s in rows], "next_cursor": cursor})


@routes.post("/api/v1/webhooks")
@api("webhooks:write")
@writes
async def create_webhook(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    created = await webhooks.create_subscription(actor=token_of(request), form=_subscription_input(body))
    return 201, {**_subscription_json(created.subscription), "secret": created.secret}


@routes.put("/api/v1/webhooks/{id}")
@api("webhooks:write")
@writes
async def update_webhook(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    subscription = await webhooks.update_subscription(
        actor=token_of(request),
        subscription_id=_id(request),
        form=_subscription_input(body),
        active=body.boolean("active", True),
    )
    return 200, _subscription_json(subscription)


@routes.get("/api/v1/webhooks/{id}/deliveries")
@api("webhooks:write")
async def list_deliveries(request: web.Request) -> web.Response:
    subscription = await webhooks.subscription_of(_id(request))
    rows, cursor = await page(request, WebhookDelivery.filter(subscription_id=subscription.id))
    return json_response({"items": [delivery_json(d) for d in rows], "next_cursor": cursor})


@routes.post("/api/v1/webhook-deliveries/{id}/replay")
@api("webhooks:write")
@writes
async def replay_delivery(request: web.Request, body: Body) -> tuple[int, dict[str, Any]]:
    delivery = await webhooks.replay(actor=token_of(request), delivery_id=_id(request))
    return 200, delivery_json(delivery)
