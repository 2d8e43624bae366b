"""Stock (库存) through the workflow: each move recorded with who and why, reservations all or none and
never beyond what is available (two orders for the last unit at once: one wins, the other is told), the
safety level telling purchasing once per crossing (a digest when many cross at once), bad input and
permission refusals changing nothing."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from tortoise.transactions import in_transaction

from models import Product, Staff, StockKind, StockLevel, StockMove, StockMoveKind, Warehouse, WebhookDelivery
from tests.support import World, form_errors
from webviews.auth import csrf_token
from workflow import stock
from workflow.admin import ensure_unit, import_products
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.stock import Line, OutOfStock
from workflow.tokens import create_token
from workflow.webhooks import SubscriptionInput, create_subscription

PURCHASING = "caicaigou"


async def setup() -> tuple[Warehouse, dict[str, Product], Staff]:
    unit = await ensure_unit("朗斯家居/华东区")
    warehouse = await Warehouse.create(name="华东仓", org_unit=unit)
    products = {p.model: p for p in await Product.all()}
    return warehouse, products, await Staff.get(userid="fengcangku")


async def moves(product: Product) -> list[tuple[str, int, int, int, str, str]]:
    rows = await StockMove.filter(product_id=product.id).order_by("id").prefetch_related("actor")
    return [
        (m.kind.value, m.quantity, m.on_hand_after, m.reserved_after, m.actor.name if m.actor else "", m.ref)
        for m in rows
    ]


async def level(product: Product, warehouse: Warehouse) -> tuple[int, int]:
    row = await StockLevel.get(product_id=product.id, warehouse_id=warehouse.id)
    return row.on_hand, row.reserved


async def test_every_move_is_recorded_with_who_and_why(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge, shower = products["HJ-01"], products["S1"]
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 10)], reason="到货")
    # A made-to-measure product in the same order is passed over: it is made for the order.
    lines = [Line(hinge.id, 3), Line(shower.id, 1)]
    await stock.reserve(warehouse_id=warehouse.id, lines=lines, ref="dealer_order:1", actor=None, reason="经销商下单")
    assert await stock.available([hinge.id, shower.id]) == {hinge.id: 7, shower.id: 0}
    await stock.release(
        warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], ref="dealer_order:1", actor=keeper, reason="改单"
    )
    await stock.issue(
        warehouse_id=warehouse.id, lines=[Line(hinge.id, 2)], ref="dealer_order:1", actor=keeper, reason="发货"
    )
    await stock.receive(
        actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], reason="客户退货", returned=True
    )
    await stock.count(actor=keeper, warehouse_id=warehouse.id, product_id=hinge.id, counted=8, reason="月底盘点")
    assert await moves(hinge) == [
        ("received", 10, 10, 0, "冯仓管", ""),
        ("reserved", 3, 10, 3, "", "dealer_order:1"),
        ("released", 1, 10, 2, "冯仓管", "dealer_order:1"),
        ("issued", 2, 8, 0, "冯仓管", "dealer_order:1"),
        ("returned", 1, 9, 0, "冯仓管", ""),
        ("counted", -1, 8, 0, "冯仓管", ""),
    ]
    assert [m.reason for m in await StockMove.filter(product_id=hinge.id).order_by("id")][-1] == "月底盘点"
    assert await moves(shower) == []
    assert await stock.available([hinge.id], warehouse.id) == {hinge.id: 8}


async def test_a_reservation_is_all_or_nothing(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge, handle = products["HJ-01"], products["LS-01"]
    await stock.receive(
        actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 5), Line(handle.id, 1)], reason="到货"
    )
    with pytest.raises(OutOfStock) as refused:
        await stock.reserve(
            warehouse_id=warehouse.id,
            lines=[Line(hinge.id, 2), Line(handle.id, 2)],
            ref="dealer_order:2",
            actor=None,
            reason="经销商下单",
        )
    assert refused.value.message == "配件 五金 LS-01（淋浴房拉手） 库存不足：需要 2 件，现可用 1 件"
    assert await level(hinge, warehouse) == (5, 0) and await level(handle, warehouse) == (1, 0)
    assert {m.kind for m in await StockMove.all()} == {StockMoveKind.RECEIVED}
    # Releasing or issuing more than was reserved is refused too.
    with pytest.raises(Conflict, match="只预留了 0 件"):
        await stock.issue(warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], ref="x", actor=None, reason="")


async def test_two_orders_for_the_last_unit_at_once(world: World) -> None:
    """Each reservation in its own transaction (its own connection on PostgreSQL): one wins."""
    warehouse, products, keeper = await setup()
    shelf = products["ZJ-A"]
    for round_ in range(5):
        await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(shelf.id, 1)], reason="到货")

        async def order(n: int) -> str:
            try:
                await stock.reserve(
                    warehouse_id=warehouse.id,
                    lines=[Line(shelf.id, 1)],
                    ref=f"dealer_order:{n}",
                    actor=None,
                    reason="下单",
                )
            except OutOfStock as refused:
                return refused.message
            return "ok"

        results = await asyncio.gather(order(round_ * 2), order(round_ * 2 + 1))
        assert sorted(results) == ["ok", "物料 展示 ZJ-A（门店展架） 库存不足：需要 1 件，现可用 0 件"], results
        on_hand, reserved = await level(shelf, warehouse)
        assert on_hand - reserved == 0 and reserved == round_ + 1
    assert await StockMove.filter(kind=StockMoveKind.RESERVED).count() == 5


async def test_bad_input_changes_nothing(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    for quantity, message in ((-1, "数量必须大于 0"), (0, "数量必须大于 0"), ("1.5", "数量必须是整数：1.5")):
        with pytest.raises(Invalid, match=message):
            await stock.receive(
                actor=keeper,
                warehouse_id=warehouse.id,
                lines=[Line(hinge.id, quantity)],
                reason="到货",  # type: ignore[arg-type]
            )
    with pytest.raises(NotFound, match="没有这个产品"):
        await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(999999, 1)], reason="到货")
    with pytest.raises(Invalid, match="是定制产品，不入库存"):
        await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(products["S1"].id, 1)], reason="到货")
    with pytest.raises(Invalid, match="数量不能是负数"):
        await stock.count(actor=keeper, warehouse_id=warehouse.id, product_id=hinge.id, counted=-3, reason="")
    assert not await StockMove.exists() and not await StockLevel.exists()


async def test_who_may_do_what(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    sales, buyer = await Staff.get(userid="zhangxiaoshou"), await Staff.get(userid=PURCHASING)
    with pytest.raises(NotAllowed, match="只有仓库管理员或管理员可以入库"):
        await stock.receive(actor=sales, warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], reason="")
    with pytest.raises(NotAllowed, match="只有仓库管理员或管理员可以盘点"):
        await stock.count(actor=buyer, warehouse_id=warehouse.id, product_id=hinge.id, counted=1, reason="")
    with pytest.raises(NotAllowed, match="只有采购或管理员可以设置安全库存"):
        await stock.set_safety_level(actor=keeper, warehouse_id=warehouse.id, product_id=hinge.id, safety_level=5)
    # The warehouse keeper of 华东区 does not count in 华南区's warehouse.
    south = await Warehouse.create(name="华南仓", org_unit=await ensure_unit("朗斯家居/华南区"))
    with pytest.raises(NotAllowed, match="华南仓 不在你负责的范围内，不能盘点"):
        await stock.count(actor=keeper, warehouse_id=south.id, product_id=hinge.id, counted=1, reason="")
    assert not await StockMove.exists()
    # Purchasing at the company covers every warehouse: 华南仓 has none of them, below 2 at once.
    await stock.set_safety_level(actor=buyer, warehouse_id=south.id, product_id=hinge.id, safety_level=2)
    await world.settle()
    assert [c["main_title"]["desc"] for c in low_cards(world)] == ["华南仓 · 请安排补货"]


def low_cards(world: World) -> list[dict]:
    return [c.card for c in world.emu.cards(PURCHASING) if c.title == "库存低于安全库存"]


def digests(world: World) -> list[str]:
    sent = [m for m in world.emu.bot_messages(PURCHASING) if m.msgtype == "markdown"]
    return [m.payload["markdown"]["content"] for m in sent]


async def test_purchasing_hears_once_per_crossing(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    buyer = await Staff.get(userid=PURCHASING)
    # The ERP subscribes to the same crossings (workflow/webhooks.py).
    await create_subscription(
        actor=None, form=SubscriptionInput("ERP", "http://127.0.0.1:9/never", ["stock.below_safety"])
    )
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 10)], reason="到货")
    await stock.set_safety_level(actor=buyer, warehouse_id=warehouse.id, product_id=hinge.id, safety_level=5)

    async def order(n: int, quantity: int) -> None:
        await stock.reserve(
            warehouse_id=warehouse.id, lines=[Line(hinge.id, quantity)], ref=f"dealer_order:{n}", actor=None, reason=""
        )
        await world.settle()

    await order(1, 5)  # 5 available: at the level, not below it
    assert low_cards(world) == []
    await order(2, 1)  # 4: below
    [card] = low_cards(world)
    assert card["main_title"]["desc"] == "华东仓 · 请安排补货"
    assert card["emphasis_content"] == {"title": "4", "desc": "可用（安全库存 5）"}
    assert [r["value"] for r in card["horizontal_content_list"]] == [
        "配件 五金 HJ-01（淋浴房不锈钢合页）",
        "10 件",
        "6 件",
    ]
    assert f"/h5/stock/products/{hinge.id}" in card["card_action"]["url"]
    await order(3, 2)  # still below: no second card
    assert len(low_cards(world)) == 1
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 10)], reason="补货")
    await world.settle()
    assert len(low_cards(world)) == 1 and not (await StockLevel.get(product_id=hinge.id)).below_safety
    await order(4, 9)  # 12 - 9 = 3: below again, a second card
    assert len(low_cards(world)) == 2
    assert low_cards(world)[-1]["emphasis_content"]["title"] == "3"
    events = [d.payload["data"] for d in await WebhookDelivery.all().order_by("id")]
    assert [(e["model"], e["available"], e["safety_level"]) for e in events] == [("HJ-01", 4, 5), ("HJ-01", 3, 5)]
    # The warehouse keeper is not purchasing: nothing for them.
    assert not [c for c in world.emu.cards("fengcangku") if c.title == "库存低于安全库存"]


async def test_many_crossing_at_once_give_one_digest(world: World) -> None:
    warehouse, products, keeper = await setup()
    buyer = await Staff.get(userid=PURCHASING)
    stocked = [p for p in products.values() if p.stock_kind is not None]
    assert len(stocked) >= 6
    lines = [Line(p.id, 3) for p in stocked]
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=lines, reason="到货")
    for product in stocked:
        await stock.set_safety_level(actor=buyer, warehouse_id=warehouse.id, product_id=product.id, safety_level=2)
    await stock.reserve(
        warehouse_id=warehouse.id, lines=[Line(p.id, 2) for p in stocked], ref="dealer_order:9", actor=None, reason=""
    )
    await world.settle()
    assert low_cards(world) == []
    [digest] = digests(world)
    assert digest.startswith(f"## 库存预警：{len(stocked)} 项低于安全库存")
    for product in stocked:
        assert f"> {product.label}（华东仓）可用 1，安全库存 2" in digest
    assert "/h5/stock" in digest


async def test_stock_in_the_chat(world: World) -> None:
    warehouse, products, keeper = await setup()
    buyer = await Staff.get(userid=PURCHASING)
    hinge, handle = products["HJ-01"], products["LS-01"]
    await stock.receive(
        actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 3), Line(handle.id, 20)], reason="到货"
    )
    await stock.set_safety_level(actor=buyer, warehouse_id=warehouse.id, product_id=hinge.id, safety_level=5)
    await world.say(PURCHASING, "库存")
    card = world.card(PURCHASING, "库存")
    quote = card.card["quote_area"]["quote_text"]
    # The one below its safety level comes first, marked.
    assert quote.splitlines()[0] == "⚠ 配件 五金 HJ-01（淋浴房不锈钢合页）（华东仓）可用 3 / 在库 3 / 预留 0"
    assert "LS-01" in quote and "/h5/stock" in card.card["card_action"]["url"]
    await world.say("fengcangku", "库存 LS-01")
    card = world.card("fengcangku", "库存：LS-01")
    assert card.card["quote_area"]["quote_text"] == "配件 五金 LS-01（淋浴房拉手）（华东仓）可用 20 / 在库 20 / 预留 0"
    await world.say("fengcangku", "库存 没有的型号")
    assert world.last_text("fengcangku").startswith("没有找到“没有的型号”的库存产品。库存列表：")
    await world.say("zhangxiaoshou", "库存")
    assert world.last_text("zhangxiaoshou").startswith("库存只对仓库管理员、采购、管理层、管理员开放。")
    await world.say(PURCHASING, "帮助")
    help_card = world.card(PURCHASING, "接力 · 可以这样和我说")
    assert "库存 [型号] — 查库存、预留与安全库存" in help_card.card["quote_area"]["quote_text"]
    assert [j["title"] for j in help_card.card["jump_list"]] == ["我的待办", "库存", "订单列表"]


async def post_form(world: World, userid: str, path: str, data: dict[str, str]) -> tuple[int, str]:
    async with world.signed_in(userid) as http:
        body = {"csrf": csrf_token(await Staff.get(userid=userid)), **data}
        async with http.post(f"{world.relay_url}{path}", data=body, allow_redirects=False) as resp:
            return resp.status, await resp.text()


async def test_the_forms_refuse_bad_input_in_words_and_change_nothing(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    form = {"warehouse_id": str(warehouse.id), "product_id": str(hinge.id), "quantity": "5", "reason": ""}
    for change, status, message in (
        ({"quantity": "-2"}, 400, "数量必须大于 0"),
        ({"quantity": "1.5"}, 400, "数量必须是整数：1.5"),
        ({"quantity": "abc"}, 400, "数量必须是整数：abc"),
        ({"quantity": ""}, 400, "请填写数量"),
        ({"quantity": "99999999999"}, 400, "数量不能超过 1000000"),
        ({"product_id": "999999"}, 404, "没有这个产品：999999"),
        ({"product_id": ""}, 400, "请选择产品"),
        ({"product_id": str(products["S1"].id)}, 400, "淋浴房 S系列 S1（一字形淋浴屏） 是定制产品，不入库存"),
        ({"warehouse_id": "424242"}, 404, "没有这个仓库"),
    ):
        got, html = await post_form(world, "fengcangku", "/h5/stock/receive", {**form, **change})
        assert (got, form_errors(html)) == (status, message), change
    got, html = await post_form(world, "fengcangku", "/h5/stock/count", {**form, "counted": "-1", "quantity": ""})
    assert (got, form_errors(html)) == (400, "数量不能是负数")
    got, html = await post_form(
        world, PURCHASING, f"/h5/stock/products/{hinge.id}", {"warehouse_id": str(warehouse.id), "safety_level": "x"}
    )
    assert (got, form_errors(html)) == (400, "数量必须是整数：x")
    assert not await StockMove.exists() and not await StockLevel.exists()
    got, _ = await post_form(world, "fengcangku", "/h5/stock/receive", form)
    assert got == 302 and await level(hinge, warehouse) == (5, 0)


async def test_the_pages_refuse_who_may_not(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    form = {"warehouse_id": str(warehouse.id), "product_id": str(hinge.id), "quantity": "5", "counted": "5"}
    for userid, path, message in (
        (PURCHASING, "/h5/stock/receive", "只有仓库管理员或管理员可以入库"),
        (PURCHASING, "/h5/stock/count", "只有仓库管理员或管理员可以盘点"),
        ("fengcangku", f"/h5/stock/products/{hinge.id}", "只有采购或管理员可以设置安全库存"),
    ):
        got, html = await post_form(world, userid, path, {**form, "safety_level": "3"})
        assert got == 403 and message in html, path
    seeing = "只有仓库管理员、采购、管理层或管理员可以查看库存"
    async with world.signed_in("zhangxiaoshou") as http:
        for path, message in (
            ("/h5/stock", seeing),
            (f"/h5/stock/products/{hinge.id}", seeing),
            ("/h5/stock/receive", "只有仓库管理员或管理员可以入库"),
        ):
            async with http.get(f"{world.relay_url}{path}") as resp:
                assert resp.status == 403 and message in await resp.text(), path
    assert not await StockMove.exists()


async def test_the_api_lists_levels_with_a_token(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge, handle = products["HJ-01"], products["LS-01"]
    await stock.receive(
        actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 4), Line(handle.id, 9)], reason="到货"
    )
    await stock.reserve(
        warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], ref="dealer_order:3", actor=None, reason=""
    )
    reader = await create_token(actor=None, name="ERP", scopes=["stock:read"])
    other = await create_token(actor=None, name="看板", scopes=["leads:read"])
    url = f"{world.relay_url}/api/v1/stock"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {other.secret}"}) as resp:
            assert resp.status == 403
        async with http.get(url) as resp:
            assert resp.status == 401
        async with http.get(url, params={"limit": "1"}, headers={"Authorization": f"Bearer {reader.secret}"}) as resp:
            first = await resp.json()
        assert first["items"] == [
            {
                "product_id": hinge.id,
                "series": "配件 五金",
                "model": "HJ-01",
                "name": "淋浴房不锈钢合页",
                "stock_kind": "accessory",
                "unit": "件",
                "warehouse_id": warehouse.id,
                "warehouse": "华东仓",
                "on_hand": 4,
                "reserved": 1,
                "available": 3,
                "safety_level": 0,
                "below_safety": False,
            }
        ]
        params = {"cursor": first["next_cursor"]}
        async with http.get(url, params=params, headers={"Authorization": f"Bearer {reader.secret}"}) as resp:
            second = await resp.json()
        assert [x["model"] for x in second["items"]] == ["LS-01"] and second["next_cursor"] is None
        async with http.get(url, params={"limit": "x"}, headers={"Authorization": f"Bearer {reader.secret}"}) as resp:
            assert resp.status == 400 and (await resp.json())["field"] == "limit"
        params = {"warehouse_id": "华东仓"}
        async with http.get(url, params=params, headers={"Authorization": f"Bearer {reader.secret}"}) as resp:
            assert (resp.status, (await resp.json())["message"]) == (400, "warehouse_id 应为仓库编号（正整数）")
        async with http.get(f"{world.relay_url}/api/v1/openapi.json") as resp:
            assert (await resp.json())["paths"]["/api/v1/stock"]["get"]["security"] == [{"token": ["stock:read"]}]


async def test_the_product_file_says_which_products_are_stocked(world: World) -> None:
    text = (
        "series,model,name,stock_kind\n"
        "配件 五金,HJ-09,新合页,配件\n"
        "物料 宣传,DM-9,海报,marketing\n"
        "淋浴房 S系列,S1,一字形淋浴屏,\n"
    )
    await import_products(text)
    kinds = {p.model: p.stock_kind for p in await Product.filter(model__in=["HJ-09", "DM-9", "S1"])}
    assert kinds == {"HJ-09": StockKind.ACCESSORY, "DM-9": StockKind.MARKETING, "S1": None}
    with pytest.raises(
        Invalid, match="第 2 行：stock_kind 应为 standard / accessory / marketing（标准品 / 配件 / 物料）或留空"
    ):
        await import_products("series,model,stock_kind\n配件 五金,HJ-10,库存\n")
    assert not await Product.filter(model="HJ-10").exists()
    # A file without the column leaves the kind as it is.
    await import_products("series,model,name\n配件 五金,HJ-09,新合页（改名）\n")
    assert (await Product.get(model="HJ-09")).stock_kind == StockKind.ACCESSORY


async def test_an_admin_marks_a_product_stocked_on_its_page(world: World) -> None:
    product = await Product.get(model="M80")
    form = {"series": product.series, "model": "M80", "name": product.name, "unit": product.unit, "specs": ""}
    got, html = await post_form(world, "wangzong", f"/h5/admin/products/{product.id}", {**form, "stock_kind": "库存"})
    assert (got, form_errors(html)) == (
        400,
        "stock_kind 应为 standard / accessory / marketing（标准品 / 配件 / 物料）或留空",
    )
    got, _ = await post_form(world, "wangzong", f"/h5/admin/products/{product.id}", {**form, "stock_kind": "standard"})
    assert got == 302 and (await Product.get(id=product.id)).stock_kind == StockKind.STANDARD
    async with world.signed_in("wangzong") as http:
        async with http.get(f"{world.relay_url}/h5/admin/products/{product.id}") as resp:
            assert '<option value="standard" selected>标准品</option>' in await resp.text()
    got, _ = await post_form(world, "wangzong", f"/h5/admin/products/{product.id}", {**form, "stock_kind": ""})
    assert got == 302 and (await Product.get(id=product.id)).stock_kind is None


async def test_warehouses_open_and_close(world: World) -> None:
    await ensure_unit("朗斯家居/华东区")
    with pytest.raises(NotFound, match="没有这个组织：朗斯家居/华北区"):
        await stock.open_warehouse(name="华北仓", unit_path="朗斯家居/华北区")
    first = await stock.open_warehouse(name="华东仓", unit_path="朗斯家居/华东区")
    second = await stock.open_warehouse(name="华东二仓", unit_path="朗斯家居/华东区")
    assert (await stock.default_warehouse()).id == first.id
    await stock.close_warehouse(name="华东仓")
    assert (await stock.default_warehouse()).id == second.id
    assert (await stock.open_warehouse(name="华东仓", unit_path="朗斯家居")).active
    assert await Warehouse.all().count() == 2


async def test_an_admin_keeps_only_the_warehouses_of_their_part_of_the_company(world: World) -> None:
    await ensure_unit("朗斯家居/华北区")
    east = await stock.open_warehouse(name="华东仓", unit_path="朗斯家居/华东区")
    north = await stock.open_warehouse(name="华北仓", unit_path="朗斯家居/华北区")
    regional = await Staff.create(
        userid="eastadmin", name="华东管理员", roles=["admin"], org_unit=await ensure_unit("朗斯家居/华东区")
    )
    async with world.signed_in(regional.userid) as http:
        async with http.get(f"{world.relay_url}/h5/admin/warehouses") as resp:
            page = await resp.text()
    assert "华东仓" in page and "华北仓" not in page
    # Closing another region's warehouse is refused as if it did not exist, and nothing changes.
    status, _ = await post_form(
        world, regional.userid, "/h5/admin/warehouses", {"action": "close", "warehouse": str(north.id)}
    )
    assert status == 404
    assert (await Warehouse.get(id=north.id)).active
    with pytest.raises(NotFound, match="仓库不存在"):
        await stock.set_warehouse_active(actor=regional, warehouse_id=north.id, active=False)
    assert not (await stock.set_warehouse_active(actor=regional, warehouse_id=east.id, active=False)).active
    # The company's admin keeps both.
    top = await Staff.get(userid="wangzong")
    assert {w.name for w in await stock.kept_warehouses(top)} == {"华东仓", "华北仓"}


async def test_a_reservation_goes_with_the_callers_transaction(world: World) -> None:
    """reserve runs inside the caller's transaction: rolled back with it, and a refusal the caller
    catches takes back only the reservation's own lines."""
    warehouse, products, keeper = await setup()
    hinge, handle = products["HJ-01"], products["LS-01"]
    await stock.receive(
        actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 5), Line(handle.id, 1)], reason="到货"
    )
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await stock.reserve(warehouse_id=warehouse.id, lines=[Line(hinge.id, 2)], ref="o:1", actor=None, reason="")
            raise RuntimeError("the order could not be saved")
    assert await level(hinge, warehouse) == (5, 0)
    async with in_transaction():
        await stock.reserve(warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], ref="o:2", actor=None, reason="")
        with pytest.raises(OutOfStock):
            lines = [Line(hinge.id, 1), Line(handle.id, 2)]
            await stock.reserve(warehouse_id=warehouse.id, lines=lines, ref="o:3", actor=None, reason="")
    assert await level(hinge, warehouse) == (5, 1) and await level(handle, warehouse) == (1, 0)
    assert [m.ref for m in await StockMove.filter(kind=StockMoveKind.RESERVED)] == ["o:2"]


async def test_the_erp_receives_and_counts_through_the_api_as_the_warehouse_keeper(world: World) -> None:
    from tests.test_api import bearer, call, token

    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    as_keeper = await token("stock:write", "stock:read", acts_as=keeper.userid)
    as_buyer = await token("stock:write", acts_as=PURCHASING)
    receipts, counts = f"{world.relay_url}/api/v1/stock/receipts", f"{world.relay_url}/api/v1/stock/counts"
    body = {"warehouse_id": warehouse.id, "lines": [{"product_id": hinge.id, "quantity": 5}], "reason": "ERP 到货单 88"}
    async with aiohttp.ClientSession() as http:
        # Purchasing may not receive goods: refused as on the page, nothing moves.
        status, refused, _ = await call(http, "POST", receipts, bearer(as_buyer, "erp-0"), body)
        assert status == 403 and refused["error"] == "forbidden", refused
        assert await StockMove.filter(product_id=hinge.id).count() == 0
        # The same receipt sent twice with one key (a lost answer, retried): received once.
        first = await call(http, "POST", receipts, bearer(as_keeper, "erp-88"), body)
        again = await call(http, "POST", receipts, bearer(as_keeper, "erp-88"), body)
        assert first[0] == again[0] == 201 and first[1] == again[1]
        assert again[2].get("Idempotency-Replayed") == "true"
        [row] = first[1]["items"]
        assert (row["model"], row["on_hand"], row["available"]) == ("HJ-01", 5, 5)
        assert await level(hinge, warehouse) == (5, 0)
        await stock.reserve(
            warehouse_id=warehouse.id, lines=[Line(hinge.id, 2)], ref="dealer_order:9", actor=None, reason=""
        )
        # A count below what is reserved is refused in words; a count of 4 is recorded as a difference of -1.
        low = {"warehouse_id": warehouse.id, "product_id": hinge.id, "counted": 1}
        status, refused, _ = await call(http, "POST", counts, bearer(as_keeper, "count-1"), low)
        assert status == 409 and "预留" in refused["message"], refused
        status, counted, _ = await call(http, "POST", counts, bearer(as_keeper, "count-2"), {**low, "counted": 4})
        assert status == 201 and (counted["on_hand"], counted["reserved"], counted["available"]) == (4, 2, 2)
        bad = {"warehouse_id": warehouse.id, "lines": [{"product_id": hinge.id, "quantity": 0}]}
        status, refused, _ = await call(http, "POST", receipts, bearer(as_keeper, "erp-bad"), bad)
        assert status == 400 and refused["field"] == "quantity"
    assert [(m[0], m[1], m[4]) for m in await moves(hinge)] == [
        ("received", 5, keeper.name),
        ("reserved", 2, ""),
        ("counted", -1, keeper.name),
    ]
