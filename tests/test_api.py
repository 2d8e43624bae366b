"""The integration API (/api/v1) as another system uses it: a token acting as a member, writes applied
once per Idempotency-Key (also when the same key comes twice at once), every list walked by its cursor,
customers' phones and addresses masked unless the token may see them (and then audited), and refusals
that say what is missing."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import aiohttp

from infra.timeutil import local_today, utcnow
from models import (
    AuditAction,
    AuditEntry,
    Customer,
    IdempotencyKey,
    MessageState,
    Order,
    OrderEvent,
    OrderState,
    Product,
    WebhookDelivery,
    WebhookSubscription,
)
from relay.demo import advance
from tests.support import World
from workflow import retention
from workflow.orders import ItemInput, create_order
from workflow.tokens import create_token

ADMIN = "wangzong"
SALES = "zhangxiaoshou"
DISPATCHER = "zhaopaidan"


async def token(*scopes: str, acts_as: str = "") -> str:
    """A token's secret, made as `relay token create` makes it."""
    return (await create_token(actor=None, name="1C 集成", scopes=list(scopes), acts_as=acts_as)).secret


def bearer(secret: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secret}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def call(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any, dict[str, str]]:
    async with http.request(method, url, json=body, headers=headers) as resp:
        return resp.status, await resp.json(), dict(resp.headers)


async def new_order_body(number: str) -> dict[str, Any]:
    products = {p.model: p.id for p in await Product.all()}
    return {
        "number": number,
        "customer_name": "黄女士",
        "phone": "13812345678",
        "address": "上海市徐汇区漕溪北路 88 弄 3 号 1201",
        "items": [{"product_id": products["K5"], "room": "主卫"}, {"product_id": products["S1"], "quantity": 2}],
        "expected_measure_date": (local_today() + timedelta(days=2)).isoformat(),
    }


async def test_an_order_written_twice_with_one_key_is_made_once(world: World) -> None:
    secret = await token("orders:write", "orders:read", acts_as=SALES)
    url = f"{world.relay_url}/api/v1/orders"
    body = await new_order_body("API-0001")
    async with aiohttp.ClientSession() as http:
        first = await call(http, "POST", url, bearer(secret, "erp-order-0001"), body)
        again = await call(http, "POST", url, bearer(secret, "erp-order-0001"), body)
        assert first[0] == again[0] == 201, first
        assert first[1] == again[1] and first[1]["number"] == "API-0001" and first[1]["state"] == "created"
        assert "Idempotency-Replayed" not in first[2] and again[2]["Idempotency-Replayed"] == "true"
        assert first[1]["phone"] == "138****5678" and "88 弄" not in first[1]["address"]

        # The same key with another body is refused, and changes nothing.
        other = {**body, "number": "API-0002"}
        status, answer, _ = await call(http, "POST", url, bearer(secret, "erp-order-0001"), other)
        assert status == 422 and answer["error"] == "idempotency_key_reused", answer
        assert "另一个请求" in answer["message"]

        # Two requests with one new key at the same moment: one applies, the other gets its answer.
        third = {**body, "number": "API-0003"}
        both = await asyncio.gather(
            call(http, "POST", url, bearer(secret, "erp-order-0003"), third),
            call(http, "POST", url, bearer(secret, "erp-order-0003"), third),
        )
        assert [b[0] for b in both] == [201, 201] and both[0][1] == both[1][1]
        assert sorted(b[2].get("Idempotency-Replayed", "") for b in both) == ["", "true"]

        # A refusal is an answer too: replayed as it was, the order still not made.
        bad = {**body, "number": "API-0004", "phone": "12345"}
        refused = [await call(http, "POST", url, bearer(secret, "erp-order-0004"), bad) for _ in range(2)]
        assert refused[0][0] == refused[1][0] == 400 and refused[0][1] == refused[1][1]
        assert refused[0][1]["field"] == "phone" and refused[1][2]["Idempotency-Replayed"] == "true"

    assert sorted(await Order.all().values_list("number", flat=True)) == ["API-0001", "API-0003"]
    for number in ("API-0001", "API-0003"):
        order = await Order.get(number=number)
        assert await OrderEvent.filter(order_id=order.id, kind="created").count() == 1
    # The dispatchers heard of each order once.
    await world.settle()
    cards = [c for c in world.emu.cards(DISPATCHER) if "API-0001" in str(c.card)]
    assert len(cards) == 1


async def test_every_list_walks_all_rows_once_by_its_cursor(world: World) -> None:
    for n in range(7):
        await Product.create(series="测试系列", model=f"T{n}", name="测试")
    secret = await token("products:read", "orders:read", acts_as=ADMIN)
    for number in ("API-1001", "API-1002", "API-1003", "API-1004", "API-1005"):
        await create_order(
            actor=await world.staff(SALES),
            number=number,
            customer_name="客户",
            phone="13912345678",
            address="上海市徐汇区某路 1 号",
            items=[ItemInput(product_id=(await Product.get(model="K5")).id)],
            expected_measure_date=None,
        )
    async with aiohttp.ClientSession() as http:
        for path, key, expected in (
            ("/api/v1/products", "id", await Product.filter(active=True).order_by("id").values_list("id", flat=True)),
            ("/api/v1/orders", "number", await Order.all().order_by("id").values_list("number", flat=True)),
        ):
            seen: list[Any] = []
            cursor = None
            pages = 0
            while True:
                params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
                async with http.get(f"{world.relay_url}{path}", params=params, headers=bearer(secret)) as resp:
                    assert resp.status == 200, await resp.text()
                    got = await resp.json()
                assert len(got["items"]) <= 3
                seen += [item[key] for item in got["items"]]
                pages += 1
                cursor = got["next_cursor"]
                if cursor is None:
                    break
            assert seen == list(expected) and len(set(seen)) == len(seen), path
            assert pages == -(-len(expected) // 3)

        for params, field in (({"cursor": "bm9wZQ"}, "cursor"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit")):
            async with http.get(f"{world.relay_url}/api/v1/products", params=params, headers=bearer(secret)) as resp:
                answer = await resp.json()
                assert resp.status == 400 and answer["error"] == "invalid" and answer["field"] == field, answer


async def test_customers_are_masked_unless_the_token_may_see_them_and_each_reveal_is_audited(world: World) -> None:
    for number, phone in (("API-2001", "13812345678"), ("API-2002", "13987654321")):
        await create_order(
            actor=await world.staff(SALES),
            number=number,
            customer_name="黄女士",
            phone=phone,
            address="上海市徐汇区漕溪北路 88 弄 3 号 1201",
            items=[ItemInput(product_id=(await Product.get(model="K5")).id)],
            expected_measure_date=None,
        )
    masked = await token("customers:read", acts_as=ADMIN)
    full = await token("customers:read", "customers:pii", acts_as=ADMIN)
    url = f"{world.relay_url}/api/v1/customers"
    async with aiohttp.ClientSession() as http:
        status, page, _ = await call(http, "GET", url, bearer(masked))
        assert status == 200
        assert [c["phone"] for c in page["items"]] == ["138****5678", "139****4321"]
        assert page["items"][0]["orders"] == [{"number": "API-2001", "address": "上海市徐汇区****"}]
        assert not page["items"][0]["full"]
        assert await AuditEntry.filter(action=AuditAction.PHONE_REVEAL).count() == 0

        status, page, _ = await call(http, "GET", url, bearer(full))
        assert [c["phone"] for c in page["items"]] == ["13812345678", "13987654321"]
        assert page["items"][1]["orders"][0]["address"] == "上海市徐汇区漕溪北路 88 弄 3 号 1201"
        one = page["items"][0]["id"]
        status, single, _ = await call(http, "GET", f"{url}/{one}", bearer(full))
        assert status == 200 and single["phone"] == "13812345678"
        status, missing, _ = await call(http, "GET", f"{url}/999999", bearer(full))
        assert status == 404 and missing["error"] == "not_found"

    reveals = await AuditEntry.filter(action=AuditAction.PHONE_REVEAL).order_by("id").prefetch_related("actor")
    assert [(r.customer_id, r.actor.userid, r.detail["via"], r.detail["token"]) for r in reveals] == [
        (c.id, ADMIN, "API", "1C 集成") for c in [*await Customer.all().order_by("id"), await Customer.get(id=one)]
    ]


async def test_refusals_say_what_is_missing_and_transitions_are_the_tables(world: World) -> None:
    order = await create_order(
        actor=await world.staff(SALES),
        number="API-3001",
        customer_name="黄女士",
        phone="13812345678",
        address="上海市徐汇区漕溪北路 88 弄",
        items=[ItemInput(product_id=(await Product.get(model="K5")).id)],
        expected_measure_date=None,
    )
    reader = await token("orders:read", acts_as=SALES)
    unbound = await token("orders:write")
    sales = await token("orders:write", "orders:read", acts_as=SALES)
    dispatcher = await token("orders:write", acts_as=DISPATCHER)
    url = f"{world.relay_url}/api/v1/orders/{order.number}/transitions"
    measurer = await world.staff("sunceliang")
    dispatch = {"transition": "dispatch_measure", "worker_id": measurer.id, "date": local_today().isoformat()}
    async with aiohttp.ClientSession() as http:
        status, answer, _ = await call(http, "POST", url, {}, dispatch)
        assert status == 401 and answer["error"] == "unauthenticated"
        status, answer, _ = await call(http, "POST", url, bearer(reader), dispatch)
        assert (status, answer) == (
            403,
            {"error": "forbidden", "message": "访问令牌没有 orders:write 权限", "field": None},
        )
        status, answer, _ = await call(http, "POST", url, bearer(unbound), dispatch)
        assert status == 403 and "没有代表的员工账号" in answer["message"]
        # The table refuses sales a dispatcher's row, and a row from a state it does not start from.
        status, answer, _ = await call(http, "POST", url, bearer(sales), dispatch)
        assert status == 403 and answer["message"] == "只有测量派单员可以这样操作", answer
        status, answer, _ = await call(http, "POST", url, bearer(sales), {"transition": "finish_design"})
        assert status == 403, answer
        status, answer, _ = await call(http, "POST", url, bearer(sales), {"transition": "sign"})
        assert status == 400 and answer["field"] == "transition" and "H5" in answer["message"]
        status, answer, _ = await call(http, "POST", url, bearer(sales), {"transition": "fly"})
        assert status == 400 and answer["message"] == "未知的操作：fly"
        status, offered, _ = await call(http, "GET", url, bearer(sales))
        assert status == 200 and "cancel" in [t["name"] for t in offered["items"]]
        assert "dispatch_measure" not in [t["name"] for t in offered["items"]]
        # The customer's details corrected as on 修改客户信息: with a reason, the order on the new phone.
        edit = {"transition": "edit_customer", "customer_name": "黄女士", "phone": "13900001111"}
        status, answer, _ = await call(
            http, "POST", url, bearer(sales, "e-0"), {**edit, "address": "上海市徐汇区漕溪北路 88 弄"}
        )
        assert status == 400 and answer["field"] == "reason", answer
        corrected = {**edit, "address": "上海市徐汇区漕溪北路 99 弄", "reason": "客户来电更正"}
        status, edited, _ = await call(http, "POST", url, bearer(sales, "e-1"), corrected)
        assert status == 200 and edited["phone"] == "139****1111", edited  # masked: no customers:pii
        assert (await Order.get(number="API-3001")).address == "上海市徐汇区漕溪北路 99 弄"
        status, answer, _ = await call(http, "POST", url, bearer(dispatcher, "e-2"), {**corrected, "reason": "x"})
        assert status == 403, answer  # not the dispatcher's row

        status, moved, _ = await call(http, "POST", url, bearer(dispatcher, "d-1"), dispatch)
        assert status == 200 and moved["state"] == "measure_scheduled", moved
        status, again, _ = await call(http, "POST", url, bearer(dispatcher, "d-2"), dispatch)
        assert (status, again["message"]) == (409, "订单 API-3001 已由 赵静 派给 孙师傅"), again
        status, cancelled, _ = await call(
            http, "POST", url, bearer(sales, "c-1"), {"transition": "cancel", "reason": "客户改主意"}
        )
        assert status == 200 and cancelled["state"] == "cancelled"
    await order.refresh_from_db()
    assert order.state == OrderState.CANCELLED


async def test_payments_and_the_catalogue_through_the_workflow(world: World) -> None:
    order = await advance(
        await create_order(
            actor=await world.staff(SALES),
            number="API-4001",
            customer_name="黄女士",
            phone="13812345678",
            address="上海市徐汇区漕溪北路 88 弄",
            items=[ItemInput(product_id=(await Product.get(model="K5")).id)],
            expected_measure_date=None,
        ),
        OrderState.CONFIRMED,
        day=local_today() + timedelta(days=1),
    )
    sales = await token("payments:write", "payments:read", acts_as=SALES)
    admin = await token("products:write", "products:read", acts_as=ADMIN)
    not_admin = await token("products:write", acts_as=SALES)
    async with aiohttp.ClientSession() as http:
        pay = {"amount": "1000.00", "method": "transfer", "kind": "balance"}
        url = f"{world.relay_url}/api/v1/orders/{order.number}/payments"
        status, payment, _ = await call(http, "POST", url, bearer(sales, "p-1"), pay)
        assert status == 201 and payment["amount"] == "1000.00" and not payment["confirmed"], payment
        status, listed, _ = await call(http, "GET", f"{world.relay_url}/api/v1/payments", bearer(sales))
        assert [p["amount"] for p in listed["items"]][-1] == "1000.00"
        status, answer, _ = await call(http, "POST", url, bearer(sales), {**pay, "amount": 1000})
        assert status == 400 and answer["field"] == "amount"

        body = {"series": "浴室柜", "model": "B1", "name": "悬挂浴室柜", "unit": "套", "list_price": "3200.00"}
        status, product, _ = await call(http, "POST", f"{world.relay_url}/api/v1/products", bearer(admin), body)
        assert status == 201 and product["list_price"] == "3200.00", product
        status, answer, _ = await call(http, "POST", f"{world.relay_url}/api/v1/products", bearer(not_admin), body)
        assert status == 403 and answer["message"] == "只有管理员可以维护产品目录与价目表"
        status, changed, _ = await call(
            http,
            "PUT",
            f"{world.relay_url}/api/v1/products/{product['id']}",
            bearer(admin),
            {**body, "list_price": "3300.00", "active": False},
        )
        assert status == 200 and changed["list_price"] == "3300.00" and changed["active"] is False
        lists = f"{world.relay_url}/api/v1/price-lists"
        status, price_list, _ = await call(
            http, "POST", lists, bearer(admin), {"name": "经销商价", "valid_from": local_today().isoformat()}
        )
        assert status == 201, price_list
        entries = f"{lists}/{price_list['id']}/entries"
        upsert = {"entries": [{"product_id": product["id"], "price": "2800.00"}]}
        status, got, _ = await call(http, "PUT", entries, bearer(admin), upsert)
        assert status == 200 and got["items"] == [{"product_id": product["id"], "price": "2800.00"}]
        upsert["entries"][0]["price"] = "2700.00"
        await call(http, "PUT", entries, bearer(admin), upsert)
        status, page, _ = await call(http, "GET", entries, bearer(admin))
        assert page == {"items": [{"product_id": product["id"], "price": "2700.00"}], "next_cursor": None}


async def test_the_nightly_job_drops_expired_keys_and_old_deliveries(world: World) -> None:
    secret = await token("orders:write", acts_as=SALES)
    async with aiohttp.ClientSession() as http:
        for key, number in (("old", "API-5001"), ("new", "API-5002")):
            status, _, _ = await call(
                http, "POST", f"{world.relay_url}/api/v1/orders", bearer(secret, key), await new_order_body(number)
            )
            assert status == 201
    await IdempotencyKey.filter(key="old").update(expires_at=utcnow() - timedelta(minutes=1))
    subscription = await WebhookSubscription.create(name="x", url="https://x.example/", secret_encrypted="-", events="")
    for days, state in ((40, MessageState.DONE), (40, MessageState.PENDING), (1, MessageState.DONE)):
        delivery = await WebhookDelivery.create(
            event_id=f"e{days}{state}",
            event_type="order.state_changed",
            subscription=subscription,
            payload={},
            state=state,
            next_attempt_at=utcnow(),
        )
        await WebhookDelivery.filter(id=delivery.id).update(created_at=utcnow() - timedelta(days=days))
    await retention.purge()
    assert await IdempotencyKey.all().values_list("key", flat=True) == ["new"]
    assert sorted(await WebhookDelivery.all().values_list("event_id", flat=True)) == ["e1done", "e40pending"]
    # An expired key may be used again: a new write.
    async with aiohttp.ClientSession() as http:
        status, made, headers = await call(
            http, "POST", f"{world.relay_url}/api/v1/orders", bearer(secret, "old"), await new_order_body("API-5003")
        )
    assert status == 201 and made["number"] == "API-5003" and "Idempotency-Replayed" not in headers


async def test_the_admin_issues_a_token_acting_as_a_member_on_the_tokens_page(world: World) -> None:
    page = f"{world.relay_url}/h5/admin/tokens"
    async with world.browser_session(ADMIN) as http:
        async with http.get(page) as resp:
            html = await resp.text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert csrf is not None and f'<option value="{SALES}">' in html
        form = [("csrf", csrf.group(1)), ("name", "1C"), ("scope", "orders:read"), ("acts_as", "nobody")]
        async with http.post(page, data=form) as resp:
            assert resp.status == 400 and "没有在职员工 nobody" in await resp.text()
        form[-1] = ("acts_as", SALES)
        async with http.post(page, data=form) as resp:
            html = await resp.text()
        secret = re.search(r'id="secret" value="([^"]+)"', html)
        assert secret is not None and "代表 张晓燕" in html
    async with aiohttp.ClientSession() as http:
        status, page_of_orders, _ = await call(http, "GET", f"{world.relay_url}/api/v1/orders", bearer(secret.group(1)))
    assert status == 200 and page_of_orders == {"items": [], "next_cursor": None}
