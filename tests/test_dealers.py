"""Dealers (经销商订货) through the H5 pages, the emulator and the API: a dealer orders at its own price list,
the dealer manager accepts with a tap on the card, the factory makes and ships the pieces (chat, the API),
the dealer follows and receives each; a return with its reason, changing and cancelling before acceptance
(refused after), copying; the lists' filters and exports; stock reserved on submission and given back; bad
input; and a dealer never seeing another dealer's orders, nor retail orders and customers."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from decimal import Decimal
from typing import Any

import aiohttp

from cards.keys import DealerStepKey
from emulator.callback import template_card_event_xml
from infra.timeutil import local_today, utcnow
from models import (
    AuditAction,
    AuditEntry,
    DealerOrder,
    DealerOrderLine,
    DealerOrderState,
    DealerPiece,
    OrderState,
    OrgUnit,
    PieceState,
    PriceList,
    PriceListEntry,
    Product,
    Staff,
    StockLevel,
    Warehouse,
)
from tests.support import World
from tests.test_measure_slice import csrf
from tests.test_permissions import at_state
from workflow import dealers, stock
from workflow.dealer_pieces import move_dealer_piece
from workflow.stock import Line
from workflow.tokens import create_token

HENGMEI, XU, JIAJIA = "hengmei", "hengmeixu", "jiajia"  # 苏州恒美建材 (two members), 杭州佳居
MANAGER, FACTORY = "qudaojingli", "zhouchangzhang"
PRICES = {"K5": "3980.00", "S1": "2180.00", "HJ-01": "40.00"}


def error_of(html: str) -> str:
    match = re.search(r'id="form-error">([^<]*)<', html)
    return match.group(1) if match else ""


async def dealer_prices(prices: dict[str, str] = PRICES, *, unit: str = "苏州恒美建材", days: int = 1) -> None:
    """A dealer price list on the dealer's unit (the most specific list covering it)."""
    org = await OrgUnit.get(name=unit)
    price_list = await PriceList.create(
        name=f"经销价 {unit}", org_unit=org, valid_from=local_today() - timedelta(days=days)
    )
    for model, price in prices.items():
        product = await Product.get(model=model)
        await PriceListEntry.create(price_list=price_list, product=product, price=Decimal(price))


async def post(http: aiohttp.ClientSession, world: World, path: str, data: dict[str, Any]) -> tuple[int, str]:
    """Submit a page's form as the browser would: the csrf from the page, then the fields."""
    async with http.get(f"{world.relay_url}{path}") as resp:
        token = csrf(await resp.text())
    async with http.post(f"{world.relay_url}{path}", data={"csrf": token, **data}) as resp:
        return resp.status, await resp.text()


async def page(http: aiohttp.ClientSession, world: World, path: str) -> tuple[int, str]:
    async with http.get(f"{world.relay_url}{path}") as resp:
        return resp.status, await resp.text()


async def product_id(model: str) -> int:
    return (await Product.get(model=model)).id


async def cart_of(userid: str) -> DealerOrder:
    order = await DealerOrder.filter(created_by__userid=userid, state=DealerOrderState.DRAFT).order_by("-id").first()
    assert order is not None
    return order


async def test_a_dealer_orders_at_its_prices_and_follows_each_piece(world: World) -> None:
    await dealer_prices()
    async with world.browser_session(HENGMEI) as http:
        status, html = await page(http, world, "/h5/dealer")
        assert status == 200 and "¥3,980.00 / 套" in html and "经销价 苏州恒美建材" in html
        for model, qty in (("K5", "2"), ("S1", "1")):
            status, html = await post(
                http, world, "/h5/dealer", {"product_id": await product_id(model), "quantity": qty}
            )
            assert status == 200 and "已加入订货单" in html, error_of(html)
        order = await cart_of(HENGMEI)
        status, html = await page(http, world, f"/h5/dealer/orders/{order.number}")
        assert "¥10,140.00" in html and 'id="step-submit"' in html and 'id="step-accept"' not in html
        status, html = await post(http, world, f"/h5/dealer/orders/{order.number}", {"step": "submit", "kind": "new"})
        assert status == 200 and "待接单" in html, error_of(html)
    await order.refresh_from_db()
    assert order.state == DealerOrderState.SUBMITTED and order.amount == Decimal("10140.00")
    lines = await DealerOrderLine.filter(order_id=order.id).order_by("id")
    assert [(line.unit_price, line.amount) for line in lines] == [
        (Decimal("3980.00"), Decimal("7960.00")),
        (Decimal("2180.00"), Decimal("2180.00")),
    ]

    # The dealer manager's card: 接单 one tap away.
    await world.settle()  # the page's action queued the cards; the outbox delivers them
    card = world.card(MANAGER, "经销商订货单待接单")
    assert card.desc == "苏州恒美建材" and card.fields["订货单"] == order.number and card.fields["类型"] == "新订单"
    assert card.fields["金额"] == "¥10,140.00" and card.fields["下单人"] == "李恒美"
    await world.tap(MANAGER, card, "接单")
    await order.refresh_from_db()
    assert order.state == DealerOrderState.ACCEPTED and order.factory_number == f"D{utcnow():%y%m}-{order.id:06d}"
    for member in (HENGMEI, XU):
        told = world.card(member, "工厂已接单")
        assert told.fields["工厂订单号"] == order.factory_number
    assert world.card(FACTORY, "经销商订单下达生产")
    pieces = await DealerPiece.filter(order_id=order.id).order_by("id")
    assert [p.production_number for p in pieces] == [f"{order.factory_number}-0{n}" for n in (1, 2, 3)]

    # The factory: the production page lists them; a batch in chat, then the factory's system by the API.
    async with world.browser_session(FACTORY) as http:
        status, html = await page(http, world, "/h5/production")
        assert f'data-order="{order.factory_number}"' in html and "经销商 苏州恒美建材" in html
    await world.say(FACTORY, f"{pieces[0].production_number} {pieces[1].production_number}")
    assert "成功 2 件" in world.last_text(FACTORY)
    await world.say(FACTORY, pieces[2].production_number)
    scanned = world.card(FACTORY, f"生产编号 {pieces[2].production_number}")
    assert scanned.fields["经销商"] == "苏州恒美建材"
    await world.tap(FACTORY, scanned, "开始生产")
    admin = await Staff.get(userid="wangzong")
    token = await create_token(actor=admin, name="工厂 MES", scopes=["pieces:write", "production:read"])
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token.secret}"}) as api:
        async with api.get(f"{world.relay_url}/api/v1/production-orders?kind=dealer") as resp:
            listed = await resp.json()
        assert resp.status == 200 and listed["next_cursor"] is None
        [item] = listed["items"]
        assert (item["production_order_number"], item["order_number"], item["dealer"]) == (
            order.factory_number,
            order.number,
            "苏州恒美建材",
        )
        assert [p["state"] for p in item["pieces"]] == ["in_production", "in_production", "in_production"]
        async with api.get(f"{world.relay_url}/api/v1/production-orders") as resp:
            assert (await resp.json())["items"] == []  # customer orders only, by default
        async with api.get(f"{world.relay_url}/api/v1/production-orders?kind=other") as resp:
            assert resp.status == 400
        for state in ("finished", "shipped"):
            url = f"{world.relay_url}/api/v1/pieces/{pieces[0].production_number}/state"
            async with api.post(url, json={"state": state}) as resp:
                assert resp.status == 200, await resp.text()
                assert (await resp.json())["state"] == state
    states = [p.state for p in await DealerPiece.filter(order_id=order.id).order_by("id")]
    assert states == [PieceState.SHIPPED, PieceState.IN_PRODUCTION, PieceState.IN_PRODUCTION]

    # The dealer follows each piece, and receives the shipped one (its button is the table's 确认收货).
    async with world.browser_session(XU) as http:
        status, html = await page(http, world, f"/h5/dealer/orders/{order.number}")
        shown = re.findall(r'data-number="([^"]+)"><span>[^<]*</span>\s*<span class="state piece-state">([^<]+)<', html)
        assert shown == [(p.production_number, s) for p, s in zip(pieces, ("已发货", "生产中", "生产中"), strict=True)]
        assert html.count('class="secondary piece-step"') == 1 and ">确认收货<" in html
        assert 'id="step-revise"' not in html and 'id="step-cancel"' not in html and 'id="step-copy"' in html
        path = f"/h5/dealer/orders/{order.number}/pieces"
        status, html = await post(http, world, path, {"piece_step": f"{pieces[0].id}@receive"})
        assert status == 200 and f"{pieces[0].production_number}：已到货" in html, error_of(html)
        # A piece the factory has not shipped cannot be received.
        status, html = await post(http, world, path, {"piece_step": f"{pieces[1].id}@receive"})
        assert status == 409 and "当前状态：生产中，不能确认收货" in error_of(html)
        # What it owes: the accepted order's amount.
        status, html = await page(http, world, "/h5/dealer/orders")
        assert "应付（已接单金额）：¥10,140.00" in html


async def test_returned_with_a_reason_changed_and_submitted_again(world: World) -> None:
    await dealer_prices()
    me = await Staff.get(userid=HENGMEI)
    order = await dealers.add_to_cart(actor=me, product_id=await product_id("K5"), quantity=1)
    await dealers.submit(actor=me, order=order)
    async with world.browser_session(MANAGER) as http:
        path = f"/h5/dealer/orders/{order.number}"
        status, html = await page(http, world, path)
        assert 'id="step-accept"' in html and 'id="step-return"' in html and 'id="step-revise"' not in html
        status, html = await post(http, world, path, {"step": "return", "reason": "  "})
        assert status == 400 and error_of(html) == "请填写退回原因"
        status, html = await post(http, world, path, {"step": "return", "reason": "K5 本月缺货，请改期"})
        assert status == 200 and "K5 本月缺货，请改期" in html
    await world.settle()  # the page's action queued the cards; the outbox delivers them
    told = world.card(HENGMEI, "订货单被退回")
    assert told.card["quote_area"]["quote_text"] == "K5 本月缺货，请改期"
    asked = world.card(MANAGER, "经销商订货单待接单")
    assert asked.replace_text == "已退回（钱渠道）"  # the card says what became of it
    async with world.browser_session(HENGMEI) as http:
        path = f"/h5/dealer/orders/{order.number}"
        status, html = await page(http, world, path)
        assert 'id="return-reason"' in html and 'id="step-revise"' in html and 'id="step-submit"' not in html
        status, html = await post(http, world, path, {"step": "revise"})
        assert status == 200 and 'id="step-submit"' in html
        line = await DealerOrderLine.get(order_id=order.id)
        status, html = await post(http, world, path, {"step": "submit", f"qty-{line.id}": "3", "kind": "replacement"})
        assert status == 200, error_of(html)
    await order.refresh_from_db()
    assert (order.state, order.kind.value, order.amount) == (
        DealerOrderState.SUBMITTED,
        "replacement",
        Decimal("11940.00"),
    )
    await world.settle()  # the page's action queued the cards; the outbox delivers them
    assert len([c for c in world.emu.cards(MANAGER) if c.title.startswith("经销商订货单待接单")]) == 2


async def test_changed_or_cancelled_before_acceptance_refused_after_and_copied(world: World) -> None:
    await dealer_prices()
    me = await Staff.get(userid=HENGMEI)
    manager = await Staff.get(userid=MANAGER)
    cancelled = await dealers.add_to_cart(actor=me, product_id=await product_id("S1"), quantity=2)
    await dealers.submit(actor=me, order=cancelled)
    async with world.browser_session(HENGMEI) as http:
        status, html = await post(http, world, f"/h5/dealer/orders/{cancelled.number}", {"step": "cancel"})
        assert status == 200 and "已取消" in html
    await cancelled.refresh_from_db()
    assert cancelled.state == DealerOrderState.CANCELLED

    accepted = await dealers.add_to_cart(actor=me, product_id=await product_id("K5"), quantity=1)
    await dealers.submit(actor=me, order=accepted)
    await dealers.accept(actor=manager, order=accepted)
    async with world.browser_session(HENGMEI) as http:
        path = f"/h5/dealer/orders/{accepted.number}"
        for step in ("revise", "cancel"):
            status, html = await post(http, world, path, {"step": step})
            assert status == 409, step
            assert error_of(html).startswith(f"订货单 {accepted.number} 当前状态：已接单，不能")
        # Copy: a new draft with the same lines, priced at today's list (which has gone up since).
        await PriceListEntry.filter(product__model="K5").update(price=Decimal("4100.00"))
        status, html = await post(http, world, path, {"step": "copy"})
        assert status == 200 and f"已复制 {accepted.number}" in html
        copy = await cart_of(HENGMEI)
        assert copy.id != accepted.id and copy.copied_from_id == accepted.id
        assert "¥4,100.00 / 套" in html and 'id="step-submit"' in html
    await accepted.refresh_from_db()
    assert accepted.amount == Decimal("3980.00") and accepted.state == DealerOrderState.ACCEPTED


async def test_lists_filter_and_export(world: World) -> None:
    await dealer_prices()
    await dealer_prices(unit="杭州佳居")
    li, xu, he = [await Staff.get(userid=u) for u in (HENGMEI, XU, JIAJIA)]
    manager = await Staff.get(userid=MANAGER)
    k5, s1 = await product_id("K5"), await product_id("S1")
    big = await dealers.add_to_cart(actor=li, product_id=k5, quantity=3)  # 11,940
    await dealers.submit(actor=li, order=big)
    small = await dealers.add_to_cart(actor=xu, product_id=s1, quantity=1)  # 2,180, a replacement
    await dealers.save_draft(actor=xu, order=small, form=dealers.DraftInput({}, kind=dealers.kind_of("replacement")))
    await dealers.submit(actor=xu, order=small)
    await dealers.accept(actor=manager, order=small)
    other = await dealers.add_to_cart(actor=he, product_id=k5, quantity=1)
    await dealers.submit(actor=he, order=other)
    draft = await dealers.add_to_cart(actor=li, product_id=s1, quantity=1)

    def numbers(html: str) -> list[str]:
        return re.findall(r'class="order-row" data-number="([^"]+)"', html)

    async with world.browser_session(HENGMEI) as http:
        status, html = await page(http, world, "/h5/dealer/orders")
        assert numbers(html) == [draft.number, small.number, big.number]  # its own unit's, drafts too; not 佳居's
        assert "杭州佳居" not in html
        _, html = await page(http, world, "/h5/dealer/orders?kind=replacement")
        assert numbers(html) == [small.number]
        _, html = await page(http, world, "/h5/dealer/orders?min=5000&max=20000")
        assert numbers(html) == [big.number]
        _, html = await page(http, world, f"/h5/dealer/orders?staff={xu.id}&state=accepted")
        assert numbers(html) == [small.number]
        today = local_today().isoformat()
        _, html = await page(http, world, f"/h5/dealer/orders?from={today}&to={today}&q={big.number[-4:]}")
        assert numbers(html) == [big.number]
        status, html = await page(http, world, "/h5/dealer/orders?min=abc")
        assert status == 400 and error_of(html) == "最低金额应为数字，如 1280 或 1280.50"
        async with http.get(f"{world.relay_url}/h5/dealer/orders.csv?kind=replacement") as resp:
            assert resp.status == 200
            rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert rows[0] == ["订货单号", "工厂订单号", "经销商", "类型", "下单人", "下单时间", "提交时间", "金额", "状态"]
        assert [r[:5] + r[7:] for r in rows[1:]] == [
            [small.number, f"D{utcnow():%y%m}-{small.id:06d}", "苏州恒美建材", "补换货", "徐采购", "2180.0", "已接单"]
        ]
        async with http.get(f"{world.relay_url}/h5/dealer/orders.xlsx") as resp:
            assert resp.status == 200
            book = zipfile.ZipFile(io.BytesIO(await resp.read()))
            strings = book.read("xl/sharedStrings.xml").decode()
        assert big.number in strings and draft.number in strings and other.number not in strings
    async with world.browser_session(MANAGER) as http:
        _, html = await page(http, world, "/h5/dealer/orders")
        assert numbers(html) == [other.number, small.number, big.number]  # every dealer's, no drafts
        dealer = await OrgUnit.get(name="杭州佳居")
        _, html = await page(http, world, f"/h5/dealer/orders?dealer={dealer.id}")
        assert numbers(html) == [other.number]
    exports = await AuditEntry.filter(action=AuditAction.DEALER_ORDER_EXPORT).order_by("id")
    assert [(e.actor_userid, e.detail["format"], e.detail["rows"]) for e in exports] == [
        (HENGMEI, "csv", 1),
        (HENGMEI, "xlsx", 3),
    ]
    assert exports[0].detail["filter"] == {"kind": "replacement"}


async def test_bad_input_is_refused_in_chinese_and_changes_nothing(world: World) -> None:
    await dealer_prices()
    await dealer_prices(unit="杭州佳居")
    theirs = await dealers.add_to_cart(
        actor=await Staff.get(userid=JIAJIA), product_id=await product_id("K5"), quantity=1
    )
    async with world.browser_session(HENGMEI) as http:
        cases = [
            ({"product_id": await product_id("K5"), "quantity": "0"}, 400, "数量应为 1 到 9999 的整数"),
            ({"product_id": await product_id("K5"), "quantity": "两个"}, 400, "数量应为 1 到 9999 的整数"),
            ({"product_id": "99999", "quantity": "1"}, 404, "没有这个产品，或已停售"),
            (
                {"product_id": await product_id("E2"), "quantity": "1"},
                409,
                "淋浴房 E系列 E2（弧扇形淋浴房） 暂无经销价",
            ),
            ({"product_id": await product_id("K5"), "quantity": "1", "order": theirs.number}, 404, "没有找到订货单"),
        ]
        for data, status, message in cases:
            got, html = await post(http, world, "/h5/dealer", data)
            assert (got, error_of(html)[: len(message)]) == (status, message), data
        assert not await DealerOrder.filter(created_by__userid=HENGMEI).exists()
        # Someone else's order: unknown, whatever is asked of it.
        for path in (f"/h5/dealer/orders/{theirs.number}", f"/h5/dealer/orders/{theirs.number}/pieces"):
            status, html = await page(http, world, path)
            assert status == 404 and f"没有找到订货单 {theirs.number}" in html
            async with http.post(f"{world.relay_url}{path}", data={"csrf": "x", "step": "cancel"}) as resp:
                assert resp.status == 404
        # An empty cart cannot be submitted.
        mine = await dealers.add_to_cart(
            actor=await Staff.get(userid=HENGMEI), product_id=await product_id("K5"), quantity=1
        )
        line = await DealerOrderLine.get(order_id=mine.id)
        status, html = await post(
            http, world, f"/h5/dealer/orders/{mine.number}", {"step": "submit", "remove": str(line.id)}
        )
        assert status == 400 and error_of(html) == "订货单是空的，请先从目录添加产品"
        status, html = await post(
            http, world, f"/h5/dealer/orders/{mine.number}", {"step": "save", f"qty-{line.id}": "0"}
        )
        assert status == 400 and error_of(html) == "数量应为 1 到 9999 的整数"
        assert (await DealerOrderLine.get(id=line.id)).quantity == 1
    await theirs.refresh_from_db()
    assert theirs.state == DealerOrderState.DRAFT


async def test_a_dealer_sees_no_other_dealer_and_no_retail_order(world: World) -> None:
    await dealer_prices()
    await dealer_prices(unit="杭州佳居")
    he = await Staff.get(userid=JIAJIA)
    theirs = await dealers.add_to_cart(actor=he, product_id=await product_id("K5"), quantity=1)
    await dealers.submit(actor=he, order=theirs)
    retail = await at_state("LS-RETAIL1", OrderState.CREATED)
    async with world.browser_session(HENGMEI) as http:
        status, html = await page(http, world, f"/h5/dealer/orders/{theirs.number}")
        assert status == 404
        status, html = await page(http, world, f"/h5/orders/{retail.number}")
        assert status == 404 and "客户" not in html.split("</style>")[-1].replace("订单", "")
        status, html = await page(http, world, "/h5/orders")
        assert retail.number not in html
        async with http.get(f"{world.relay_url}/api/v1/orders/{retail.number}") as resp:
            assert resp.status == 404
    # The bot: another dealer's order behind a forged 接单 key, a retail order by number, a search.
    # A tap WeCom would sign and deliver like any other, with a key for another dealer's order in it.
    forged = template_card_event_xml(
        world.emu._sender(HENGMEI),
        event="template_card_event",
        event_key=DealerStepKey(order_id=theirs.id, step="cancel").pack(),
        task_id="dealer-forged",
        card_type="button_interaction",
        response_code="forged",
    )
    assert (await world.emu._push(HENGMEI, "template_card_event", forged)).status == 200
    await world.settle()
    assert world.last_text(HENGMEI) == "没有找到这张订货单"
    await world.say(HENGMEI, f"订单 {retail.number}")
    assert world.last_text(HENGMEI) == f"没有找到订单 {retail.number}"
    await world.say(HENGMEI, "查找 客户")
    assert world.last_text(HENGMEI) == "没有找到与“客户”相关的订单。"
    await theirs.refresh_from_db()
    assert theirs.state == DealerOrderState.SUBMITTED
    # Its prices are its own: 佳居's list (a lower K5) is not 恒美's.
    await PriceListEntry.filter(price_list__name="经销价 杭州佳居", product__model="K5").update(price=Decimal("3000"))
    items = {i.product.model: i.price.price for i in await dealers.catalogue(await Staff.get(userid=HENGMEI))}
    assert items["K5"] == Decimal("3980.00")


async def test_stock_is_reserved_on_submission_and_given_back(world: World) -> None:
    await dealer_prices()
    unit = await OrgUnit.get(name="华东区")
    warehouse = await Warehouse.create(name="华东仓", org_unit=unit)
    keeper = await Staff.get(userid="fengcangku")
    hinge = await Product.get(model="HJ-01")
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 10)], reason="到货")
    me = await Staff.get(userid=HENGMEI)

    async def level() -> tuple[int, int]:
        row = await StockLevel.get(product_id=hinge.id, warehouse_id=warehouse.id)
        return row.on_hand, row.reserved

    async with world.browser_session(HENGMEI) as http:
        status, html = await page(http, world, "/h5/dealer?kind=accessory")
        # The accessories' cards only (read by card: "K5" may turn up in the page's random form token).
        shown = re.findall(r'class="card product" data-model="([^"]+)"', html)
        assert "配件 · 库存 10 件" in html and "HJ-01" in shown and "K5" not in shown
        order = await dealers.add_to_cart(actor=me, product_id=hinge.id, quantity=12)
        status, html = await post(http, world, f"/h5/dealer/orders/{order.number}", {"step": "submit"})
        assert status == 409 and error_of(html) == "淋浴房不锈钢合页 HJ-01 库存不足：需要 12 件，现可用 10 件".replace(
            "淋浴房不锈钢合页 HJ-01", hinge.label
        )
        assert await level() == (10, 0)
        line = await DealerOrderLine.get(order_id=order.id)
        status, html = await post(
            http, world, f"/h5/dealer/orders/{order.number}", {"step": "submit", f"qty-{line.id}": "4"}
        )
        assert status == 200, error_of(html)
        assert await level() == (10, 4)
        _, html = await page(http, world, "/h5/dealer?kind=accessory")
        assert "库存 6 件" in html
        status, html = await post(http, world, f"/h5/dealer/orders/{order.number}", {"step": "cancel"})
        assert status == 200
        assert await level() == (10, 0)
    # Returned: given back once; taken back to change afterwards, nothing more is given back.
    manager = await Staff.get(userid=MANAGER)
    again = await dealers.copy(actor=me, order=order)
    await dealers.submit(actor=me, order=again)
    assert await level() == (10, 4)
    await dealers.return_order(actor=manager, order=again, reason="请分两次订")
    assert await level() == (10, 0)
    await dealers.revise(actor=me, order=again)
    assert await level() == (10, 0)
    # Accepted: what was reserved leaves the warehouse, and no piece is made of a stocked line.
    await dealers.submit(actor=me, order=again)
    assert await level() == (10, 4)
    await dealers.accept(actor=manager, order=again)
    assert await level() == (6, 0)
    assert not await DealerPiece.filter(order_id=again.id).exists()


async def test_dealer_kpis_on_the_dashboard(world: World) -> None:
    await dealer_prices()
    me, manager = await Staff.get(userid=HENGMEI), await Staff.get(userid=MANAGER)
    order = await dealers.add_to_cart(actor=me, product_id=await product_id("K5"), quantity=1)
    await dealers.submit(actor=me, order=order)
    returned = await dealers.add_to_cart(actor=me, product_id=await product_id("S1"), quantity=1)
    await dealers.submit(actor=me, order=returned)
    await dealers.return_order(actor=manager, order=returned, reason="重复下单")
    await DealerOrder.filter(id=order.id).update(submitted_at=utcnow() - timedelta(hours=5))
    await dealers.accept(actor=manager, order=await DealerOrder.get(id=order.id))
    factory = await Staff.get(userid=FACTORY)
    [piece] = await DealerPiece.filter(order_id=order.id)
    for _ in range(2):
        await move_dealer_piece(actor=factory, piece=piece)
    await order.refresh_from_db()
    assert order.accepted_at is not None
    await DealerPiece.filter(id=piece.id).update(finished_at=order.accepted_at + timedelta(days=2, hours=12))
    async with world.browser_session("wangzong") as http:
        status, html = await page(http, world, "/h5/dashboard")
    assert status == 200
    row = re.search(r'<tr data-dealer="苏州恒美建材">(.*?)</tr>', html)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(?:<b>)?([^<]*)", row.group(1))
    assert cells == ["苏州恒美建材", "2", "3,980.00 元", "1", "5.0", "2.5"]


async def test_the_chat_opens_the_dealers_pages(world: World) -> None:
    await world.say(HENGMEI, "订货")
    card = world.card(HENGMEI, "经销商订货")
    assert [j["title"] for j in card.card["jump_list"]] == ["产品目录·订货", "我的订货单"]
    assert card.fields["应付"] == "¥0.00"
    await world.say(MANAGER, "订货单")
    assert [j["title"] for j in world.card(MANAGER, "经销商订货单").card["jump_list"]] == ["订货单列表"]
    await world.say(HENGMEI, "帮助")
    help_card = world.card(HENGMEI, "接力 · 可以这样和我说")
    assert "/h5/dealer/orders?" in help_card.card["card_action"]["url"]
    assert "订货 — 产品目录（经销价）、我的订货单" in help_card.card["quote_area"]["quote_text"]
    # A dealer sees no customer's order: no order commands, no order list.
    assert "查找" not in help_card.card["quote_area"]["quote_text"]
    assert "订单列表" not in [j["title"] for j in help_card.card["jump_list"]]


async def test_my_tasks_list_what_waits_on_the_dealer_and_on_the_dealer_manager(world: World) -> None:
    from workflow.queue import queue_for

    await dealer_prices()
    me, manager, factory = [await Staff.get(userid=u) for u in (HENGMEI, MANAGER, FACTORY)]
    cart = await dealers.add_to_cart(actor=me, product_id=await product_id("K5"), quantity=1)

    async def steps(member: Staff) -> list[tuple[str, str]]:
        return [(i.number, i.step) for i in await queue_for(member) if i.path.startswith("/h5/dealer/")]

    assert await steps(me) == [(cart.number, "提交订单")]
    assert await steps(manager) == []  # a cart is the dealer's own
    await dealers.submit(actor=me, order=cart)
    assert await steps(me) == [] and await steps(manager) == [(cart.number, "接单")]
    # Another dealer's staff see nothing of it.
    assert await steps(await Staff.get(userid=JIAJIA)) == []
    [piece] = await dealers.accept(actor=manager, order=cart)
    assert await steps(manager) == []
    for _ in range(3):  # 开始生产, 完工, 发货
        await move_dealer_piece(actor=factory, piece=piece)
        await piece.refresh_from_db()
    assert await steps(me) == [(cart.number, "确认收货 1 件")]
    async with world.browser_session(HENGMEI) as http:
        status, html = await page(http, world, "/h5/queue")
    assert status == 200 and "确认收货 1 件" in html
    assert 'href="/h5/dealer/orders" id="all-orders">全部订货单<' in html
