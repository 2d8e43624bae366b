"""One order along the whole money path, the way people move it: sold at prices with a discount beyond
the threshold on the 开单 form, rejected on the review page and told to sales, priced again on 修改价格,
approved by the store and the region from their cards, measured and designed, confirmed with a deposit
finance confirms from its card; released to the factory (a line of three windows is three pieces), moved
by chat scans and by the factory system's token, a late piece alerting, every piece scanned in by the
warehouse, installed, listed as 未收清 until the balance is paid and confirmed, its receipt printed, and
its money in the top manager's 本月统计. Bad input on the way is refused in Chinese and changes nothing.

Per-feature detail is in test_pricing, test_approval, test_finance, test_production and test_stats_money;
this file is the thread through them (issue 12's Tests)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from infra.timeutil import local_today
from models import (
    Alert,
    ApprovalState,
    Order,
    OrderItem,
    OrderPiece,
    OrderState,
    Payment,
    PieceState,
    Product,
    Staff,
    Task,
    TaskKind,
)
from tests.support import World, form_errors, jpeg
from tests.test_finance import pdf_text
from tests.test_lifecycle import INSTALL_DISPATCHER, WAREHOUSE, designed_order, post_form
from tests.test_measure_slice import SALES, csrf
from tests.test_pricing import STORE, price_list
from tests.test_production import FACTORY
from workflow import alerts
from workflow.errors import Invalid
from workflow.payments import parse_amount

NUMBER = "LS20261202501"
STORE_MANAGER, REGION_MANAGER, TOP, FINANCE = "chendianzhang", "liujingli", "wangzong", "qiankuaiji"


def sale_form(
    products: dict[str, int], *, window_price: str = "", window_discount: str = "25"
) -> list[tuple[str, str]]:
    """The 开单 form: a shower enclosure at its list price and a line of three windows at a discount."""
    return [
        ("number", NUMBER),
        ("customer_name", "黄女士"),
        ("phone", "13812345678"),
        ("address", "上海市徐汇区漕溪北路 88 弄 3 号 1201"),
        ("expected_measure_date", (local_today() + timedelta(days=2)).isoformat()),
        ("room", "主卫"),
        ("product_id", str(products["K5"])),
        ("quantity", "1"),
        ("unit_price", ""),
        ("discount_pct", ""),
        ("room", "阳台"),
        ("product_id", str(products["D70"])),
        ("quantity", "3"),
        ("unit_price", window_price),
        ("discount_pct", window_discount),
        ("order_discount", ""),
    ]


async def money_of(number: str) -> tuple[object, ...]:
    """What a refusal must leave as it was: the order's amounts, review, lines, payments and pieces."""
    order = await Order.get(number=number)
    return (
        order.state,
        order.contract_amount,
        order.list_amount,
        order.approval_state,
        await OrderItem.filter(order_id=order.id).order_by("id").values_list("unit_price", "amount"),
        await Payment.filter(order_id=order.id).order_by("id").values_list("amount", "confirmed_at"),
        await OrderPiece.filter(order_id=order.id).order_by("id").values_list("state", "expected_date"),
    )


def quote(world: World, userid: str, title: str) -> str:
    return str(world.card(userid, title).card.get("quote_area", {}).get("quote_text", ""))


async def sell_at_a_discount(world: World) -> Order:
    """The 开单 form: a negative price is refused with nothing created; then the sale, which waits for
    the store manager's review (25 % off the windows, beyond the 15 % threshold)."""
    await price_list("徐汇店 2026", STORE, {"K5": "4600", "D70": "1280"}, start=local_today())
    products = {p.model: p.id for p in await Product.all()}
    paper = [("paper_photo", jpeg(), "paper.jpg")]

    status, html = await post_form(world, SALES, "/h5/orders/new", sale_form(products, window_price="-100"), paper)
    assert status == 400 and form_errors(html) == "第 2 个产品：单价不能为负数"
    status, html = await post_form(world, SALES, "/h5/orders/new", sale_form(products, window_discount="120"), paper)
    assert status == 400 and "折扣应在 0% 到 100% 之间" in form_errors(html)
    assert not await Order.filter(number=NUMBER).exists()

    status, html = await post_form(world, SALES, "/h5/orders/new", sale_form(products), paper)
    assert status == 200 and "订单已创建" in html, form_errors(html)
    await world.settle()
    order = await Order.get(number=NUMBER)
    assert (order.list_amount, order.contract_amount) == (Decimal("8440.00"), Decimal("7480.00"))  # 4600 + 3 x 960
    assert order.approval_state == ApprovalState.PENDING

    card = world.card(STORE_MANAGER, "价格待审核")
    assert card.desc == f"订单 {NUMBER} · 黄女士"
    assert (card.fields["标价合计"], card.fields["合同金额"]) == ("8,440.00 元", "7,480.00 元")
    assert card.button_texts == ["同意", "驳回（填写原因）"]
    assert "第 2 行折扣 25%（超过 15%）" in quote(world, STORE_MANAGER, "价格待审核")
    assert "价格待审核" not in [c.title for c in world.emu.cards(REGION_MANAGER)]  # the store decides first
    return order


async def reject_on_the_page(world: World, order: Order) -> None:
    """驳回 on the review page: a reason is required; sales gets the card with it."""
    page = f"{world.relay_url}/h5/orders/{order.number}/approval"
    async with world.browser_session(STORE_MANAGER) as http:
        async with http.get(page) as resp:
            html = await resp.text()
            assert resp.status == 200
        assert 'id="contract-amount">¥7,480.00<' in html and "第 2 行折扣 25%（超过 15%）" in html
        found = re.search(r'name="approval_id" value="(\d+)"', html)
        assert found is not None
        form = {"csrf": csrf(html), "action": "reject", "approval_id": found.group(1)}
        async with http.post(page, data={**form, "reason": "  "}) as resp:
            assert resp.status == 400 and form_errors(await resp.text()) == "请填写驳回原因"
        assert (await Order.get(id=order.id)).approval_state == ApprovalState.PENDING
        async with http.post(page, data={**form, "reason": "窗户折扣太大，最多八折"}) as resp:
            html = await resp.text()
            assert resp.status == 200 and "已驳回，已通知销售" in html
    await world.settle()
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.REJECTED
    assert "窗户折扣太大，最多八折" in quote(world, SALES, "价格被驳回")
    assert world.card(SALES, "价格被驳回").card["jump_list"][0]["title"] == "修改价格"


async def price_again_and_approve(world: World, order: Order) -> None:
    """修改价格: a discount over 100 % is refused and nothing changes; 20 % off the windows is still
    beyond the threshold, so it goes to the store again, then the region, each tapping 同意."""
    path = f"/h5/orders/{order.number}/prices"
    items = await OrderItem.filter(order_id=order.id).order_by("id")

    def lines(window_discount: str) -> list[tuple[str, str]]:
        return [
            ("item_id", str(items[0].id)),
            ("unit_price", ""),
            ("discount_pct", ""),
            ("item_id", str(items[1].id)),
            ("unit_price", ""),
            ("discount_pct", window_discount),
            ("order_discount", ""),
        ]

    before = await money_of(order.number)
    status, html = await post_form(world, SALES, path, lines("120"))
    assert status == 400 and "折扣应在 0% 到 100% 之间" in form_errors(html)
    assert await money_of(order.number) == before

    status, html = await post_form(world, SALES, path, lines("20"))
    assert status == 200, form_errors(html)
    await world.settle()
    order = await Order.get(id=order.id)
    assert order.contract_amount == Decimal("7672.00") and order.approval_state == ApprovalState.PENDING

    card = world.card(STORE_MANAGER, "价格待审核")
    assert card.fields["合同金额"] == "7,672.00 元"
    await world.tap(STORE_MANAGER, card, "同意")
    assert world.card(STORE_MANAGER, "价格待审核").replace_text == "已同意（陈店长）"
    region = world.card(REGION_MANAGER, "价格待审核")
    assert region.fields["审核"] == "区域审核（华东区）"
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.PENDING
    await world.tap(REGION_MANAGER, region, "同意")
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.APPROVED
    assert "刘经理 审核通过" in quote(world, SALES, "价格审核通过")
    async with world.browser_session(SALES) as http:  # the review's history on the order's timeline
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
            html = await resp.text()
    for line in (
        "陈店长 驳回价格（门店审核（上海徐汇店））：窗户折扣太大，最多八折",
        "陈店长 审核通过（门店审核（上海徐汇店）），转区域 华东区 审核",
        "刘经理 审核通过（区域审核（华东区）），价格审核通过",
    ):
        assert line in html, line


async def confirm_with_a_deposit(world: World, order: Order) -> list[OrderPiece]:
    """客户确认与收款 with a deposit; nothing goes to the factory until finance taps 确认到账."""
    status, html = await post_form(
        world,
        SALES,
        f"/h5/orders/{order.number}/confirm",
        [("amount", "3000.005"), ("kind", "deposit"), ("method", "wechat")],
    )
    assert status == 400 and "金额最多两位小数" in form_errors(html)
    assert (await Order.get(id=order.id)).state == OrderState.DESIGNED
    status, html = await post_form(
        world,
        SALES,
        f"/h5/orders/{order.number}/confirm",
        [("amount", "3000"), ("kind", "deposit"), ("method", "wechat")],
    )
    assert status == 200, form_errors(html)
    await world.settle()
    order = await Order.get(id=order.id)
    assert order.state == OrderState.CONFIRMED and order.contract_amount == Decimal("7672.00")
    assert order.production_order_number is None  # the deposit waits for finance
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{NUMBER}/payments") as resp:
            assert "待确认" in await resp.text()
    assert not await OrderPiece.filter(order_id=order.id, production_number__isnull=False).exists()

    await world.tap(FINANCE, world.card(FINANCE, "收款待确认"), "确认到账")
    order = await Order.get(id=order.id)
    assert order.production_order_number is not None
    pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq").prefetch_related("item")
    assert [p.item.model for p in pieces] == ["K5", "D70", "D70", "D70"]  # a line of three windows: three pieces
    prefix = order.production_order_number
    assert [p.production_number for p in pieces] == [f"{prefix}-0{n}" for n in range(1, 5)]
    assert all(p.state == PieceState.QUEUED for p in pieces)
    async with world.browser_session(SALES) as http:  # sales sees it go to the factory
        async with http.get(f"{world.relay_url}/h5/orders/{NUMBER}") as resp:
            assert f'<dd id="production-order">{prefix}</dd>' in await resp.text()
    new = world.card(FACTORY, "新生产单")
    assert new.desc == f"生产单号 {prefix}"
    assert f"{prefix}-04 阳台：门窗 断桥铝 D70 第 3/3 件" in new.card["quote_area"]["quote_text"]
    return list(pieces)


async def token_from_the_admin_page(world: World, name: str, scope: str) -> str:
    page = f"{world.relay_url}/h5/admin/tokens"
    async with world.browser_session(TOP) as http:
        async with http.get(page) as resp:
            html = await resp.text()
        async with http.post(page, data={"csrf": csrf(html), "name": name, "scope": scope}) as resp:
            html = await resp.text()
            assert resp.status == 200 and "令牌只显示这一次" in html
    secret = re.search(r'id="secret" value="([^"]+)"', html)
    assert secret is not None
    return secret.group(1)


async def the_factory_moves_the_pieces(world: World, order: Order, pieces: list[OrderPiece]) -> None:
    """By chat (a scan, then several numbers in one message) and by the factory system's token."""
    numbers = [p.production_number or "" for p in pieces]
    await world.emu.user_scans(FACTORY, "scan_production", f"CODE_128,{numbers[0]}")
    await world.settle()
    card = world.card(FACTORY, f"生产编号 {numbers[0]}")
    assert card.desc == "待生产" and card.button_texts == ["开始生产"]
    await world.tap(FACTORY, card, "开始生产")
    await world.say(FACTORY, " ".join(numbers))
    reply = world.last_text(FACTORY)
    assert reply.startswith("批量处理 4 件，成功 4 件") and f"{numbers[0]}：→ 已完工" in reply
    states = [p.state for p in await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")]
    assert states == [PieceState.FINISHED] + [PieceState.IN_PRODUCTION] * 3

    # A piece overdue on the line raises its alert, once, to the factory and the managers.
    await OrderPiece.filter(id=pieces[3].id).update(expected_date=local_today() - timedelta(days=2))
    assert await alerts.scan() >= 1
    await world.settle()
    alert = await Alert.get(order_id=order.id, rule="piece_late")
    assert numbers[3] in alert.detail
    for who in (FACTORY, STORE_MANAGER):
        assert numbers[3] in quote(world, who, "预警：生产延期")

    writer = await token_from_the_admin_page(world, "工厂 MES", "pieces:write")
    reader = await token_from_the_admin_page(world, "看板", "production:read")
    before = await money_of(order.number)
    async with aiohttp.ClientSession() as http:

        async def post(number: str, state: str, secret: str) -> tuple[int, dict[str, str]]:
            url = f"{world.relay_url}/api/v1/pieces/{number}/state"
            async with http.post(url, json={"state": state}, headers={"Authorization": f"Bearer {secret}"}) as resp:
                return resp.status, await resp.json()

        # Without the scope, and for a number nobody gave out: refused, nothing moved.
        assert await post(numbers[1], "finished", reader) == (
            403,
            {"error": "forbidden", "message": "访问令牌没有 pieces:write 权限", "field": None},
        )
        status, body = await post("P2612-999999-01", "finished", writer)
        assert status == 404 and "P2612-999999-01" in body["message"]
        assert await money_of(order.number) == before

        for number in numbers[1:]:
            assert (await post(number, "finished", writer))[0] == 200
        for number in numbers[:3]:
            status, body = await post(number, "shipped", writer)
            assert status == 200 and body["state"] == "shipped", body
        # The last piece is fetched from the factory's yard: finished, never marked shipped.
        listing = f"{world.relay_url}/api/v1/production-orders"
        async with http.get(listing, headers={"Authorization": f"Bearer {reader}"}) as resp:
            assert resp.status == 200
            waiting = (await resp.json())["items"]
        assert [o["order_number"] for o in waiting] == [NUMBER]
        assert [p["state_label"] for p in waiting[0]["pieces"]] == ["已发货"] * 3 + ["已完工"]
    states = [p.state for p in await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")]
    assert states == [PieceState.SHIPPED] * 3 + [PieceState.FINISHED]


async def the_warehouse_scans_them_in(world: World, order: Order, pieces: list[OrderPiece]) -> None:
    await world.say(WAREHOUSE, f"入库 {order.number}")
    for n, piece in enumerate(pieces, start=1):
        await world.emu.user_scans(WAREHOUSE, "scan_goods_in", f"CODE_128,{piece.production_number}")
        await world.settle()
        assert world.card(WAREHOUSE, f"入库 · 订单 {order.number}").desc == f"{n}/4 件已到货"
    order = await Order.get(id=order.id)
    assert order.state == OrderState.IN_STOCK
    assert {p.state for p in await OrderPiece.filter(order_id=order.id)} == {PieceState.IN_STOCK}


async def install(world: World, order: Order) -> None:
    await world.tap(INSTALL_DISPATCHER, world.card(INSTALL_DISPATCHER, "已到货，待派安装"), "派给")
    task = await Task.get(order_id=order.id, kind=TaskKind.INSTALL)
    assert task.assignee_id is not None
    installer = (await Staff.get(id=task.assignee_id)).userid
    await world.tap(installer, world.card(installer, "新安装任务"), "接单")
    await world.tap(installer, world.card(installer, "安装进行中"), "照片归入此单")
    await world.photo(installer, jpeg(color=(5, 5, 200)))
    await world.photo(installer, jpeg(color=(5, 200, 5)))
    await world.tap(installer, world.card(installer, "安装进行中"), "安装完成")
    assert (await Order.get(id=order.id)).state == OrderState.INSTALLED


async def receivables(world: World) -> str:
    async with world.browser_session(FINANCE) as http:
        async with http.get(f"{world.relay_url}/h5/receivables") as resp:
            assert resp.status == 200
            return await resp.text()


async def test_the_money_path(world: World, tmp_path: Path) -> None:
    order = await sell_at_a_discount(world)
    await reject_on_the_page(world, order)
    await price_again_and_approve(world, order)
    order = await designed_order(world, await Order.get(id=order.id))
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.APPROVED  # measuring kept the prices

    pieces = await confirm_with_a_deposit(world, order)
    await the_factory_moves_the_pieces(world, order, pieces)
    await the_warehouse_scans_them_in(world, order, pieces)
    await install(world, order)

    # 未收清: the balance after the deposit.
    html = await receivables(world)
    row = re.search(rf'<tr class="receivable" data-number="{NUMBER}">.*?</tr>', html, re.S)
    assert row is not None and '<td style="text-align:right" class="outstanding">4672.00</td>' in row.group(0)

    # 登记收款: three decimals refused (nothing recorded); the balance; finance confirms it.
    path = f"/h5/orders/{NUMBER}/payments"
    before = await money_of(NUMBER)
    fields = [("kind", "balance"), ("method", "transfer")]
    status, html = await post_form(world, SALES, path, [("amount", "4672.001"), *fields])
    assert status == 400 and form_errors(html) == "金额最多两位小数"
    status, html = await post_form(world, SALES, path, [("amount", "-4672"), *fields])
    assert status == 400 and form_errors(html) == "金额格式不正确"
    assert await money_of(NUMBER) == before
    status, html = await post_form(world, SALES, path, [("amount", "4672"), *fields])
    assert status == 200 and "收款已登记" in html, form_errors(html)
    await world.settle()
    await world.tap(FINANCE, world.card(FINANCE, "收款待确认"), "确认到账")
    balance = await Payment.filter(order_id=order.id).order_by("-id").first()
    assert balance is not None and balance.amount == Decimal("4672.00") and balance.confirmed_at is not None
    assert f'data-number="{NUMBER}"' not in await receivables(world)

    # The receipt for the balance: page 1 drawn, the lines and the money readable.
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{NUMBER}/receipt.pdf?payment={balance.id}") as resp:
            assert resp.status == 200 and resp.content_type == "application/pdf"
            text = pdf_text(await resp.read(), tmp_path, resolution=80)
    for expected in (
        "收 据",
        NUMBER,
        "淋浴房 K系列 K5",
        "门窗 断桥铝 D70",
        "¥4,600.00",  # the shower enclosure
        "¥1,024.00",  # a window, 20 % off
        "¥3,072.00",  # three of them
        "¥4,672.00",  # this payment
        "¥7,672.00",  # the contract, and paid in all
        "¥0.00",  # nothing owed
    ):
        assert expected in text, (expected, text)
    assert "13812345678" not in text

    # The top manager's month: this order's contract and what was collected.
    await world.say(TOP, "本月统计")
    content = world.emu.chat(TOP)[-1].payload["markdown"]["content"]
    assert "签约 7,672.00 元（1 单）" in content, content
    assert "回款 7,672.00 元（已确认 7,672.00 元" in content, content


def test_a_payment_with_three_decimals_is_refused_not_rounded() -> None:
    """登记收款 and 客户确认与收款 once rounded 100.005 to 100.00 and stored it; now refused."""
    for text in ("100.005", "4672.001"):
        with pytest.raises(Invalid, match="金额最多两位小数"):
            parse_amount(text, "amount")
    assert parse_amount("1,280.50", "amount") == Decimal("1280.50")
    assert parse_amount("100.000", "amount") == Decimal("100.00")  # trailing zeros are still two decimals
