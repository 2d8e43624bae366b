"""Prices: which list an order's product takes (store over region over company, then the latest
valid_from, then the catalogue, else 未定价), priced lines and the contract amount, discounts, a
retired product on an old order, changing prices after confirmation, and bad input refused with
nothing changed."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from infra.timeutil import local_today
from models import (
    ApprovalState,
    EventKind,
    Order,
    OrderEvent,
    OrderItem,
    OrderPiece,
    OrderState,
    OrgUnit,
    Payment,
    PaymentKind,
    PaymentMethod,
    PieceState,
    PriceList,
    PriceListEntry,
    Product,
    Staff,
)
from relay.demo import advance, seed_orders
from tests.support import World
from tests.test_permissions import at_state
from workflow.admin import ensure_unit, import_price_entries, import_products
from workflow.catalog import set_product_active
from workflow.errors import Conflict, Invalid, NotAllowed
from workflow.items import ItemInput, edit_prices
from workflow.measure import adjust_items
from workflow.orders import create_order
from workflow.payments import confirm_design
from workflow.pricing import LinePrice, money, percent, prices_for

STORE = "朗斯家居/华东区/上海徐汇店"
REGION = "朗斯家居/华东区"
OTHER_STORE = "朗斯家居/华东区/上海浦东店"


async def price_list(
    name: str, unit: str | None, prices: dict[str, str], *, start: date, end: date | None = None
) -> PriceList:
    org = await ensure_unit(unit) if unit else None
    pl = await PriceList.create(name=name, org_unit=org, valid_from=start, valid_to=end)
    for model, price in prices.items():
        await PriceListEntry.create(price_list=pl, product=await Product.get(model=model), price=Decimal(price))
    return pl


async def product_ids(*models: str) -> dict[str, int]:
    return {p.model: p.id for p in await Product.filter(model__in=models)}


async def test_the_most_specific_list_then_the_latest_then_the_catalogue(world: World) -> None:
    today = local_today()
    await Product.filter(model="M80").update(list_price=Decimal("2600.00"))
    await price_list("全公司 2026", None, {"K5": "5000", "S1": "3000", "S3": "3500"}, start=today - timedelta(days=30))
    await price_list("华东区", REGION, {"K5": "4800", "S1": "2900"}, start=today - timedelta(days=10))
    await price_list("徐汇店", STORE, {"K5": "4600"}, start=today - timedelta(days=5))
    # A newer company list from today replaces the older one where nothing more specific prices it.
    await price_list("全公司 新价", None, {"S3": "3300"}, start=today)
    # A store list that has ended, and one not yet begun: neither counts.
    await price_list("徐汇店 旧", STORE, {"S1": "1"}, start=today - timedelta(days=60), end=today - timedelta(days=1))
    await price_list("徐汇店 下月", STORE, {"S1": "2"}, start=today + timedelta(days=30))
    ids = await product_ids("K5", "S1", "S3", "M80", "E2")
    xuhui, pudong = await ensure_unit(STORE), await ensure_unit(OTHER_STORE)

    at_xuhui = await prices_for(unit=xuhui, on=today, product_ids=ids.values())
    got = {m: (at_xuhui[i].price, at_xuhui[i].source) for m, i in ids.items()}
    assert got == {
        "K5": (Decimal("4600.00"), "徐汇店"),  # the store's list
        "S1": (Decimal("2900.00"), "华东区"),  # the store's list lacks it: the region's
        "S3": (Decimal("3300.00"), "全公司 新价"),  # the company's latest
        "M80": (Decimal("2600.00"), "目录价"),  # no list: the catalogue
        "E2": (None, "未定价"),  # nothing at all
    }
    at_pudong = await prices_for(unit=pudong, on=today, product_ids=ids.values())
    assert at_pudong[ids["K5"]].price == Decimal("4800.00")  # not Xuhui's
    # On an earlier date the lists then in force apply.
    earlier = await prices_for(unit=xuhui, on=today - timedelta(days=7), product_ids=ids.values())
    assert earlier[ids["K5"]].price == Decimal("4800.00") and earlier[ids["S3"]].price == Decimal("3500.00")
    assert earlier[ids["S1"]].price == Decimal("1.00")  # the old store list was still valid then


async def _sale(number: str, items: list[ItemInput], discount: str | None = None) -> Order:
    return await create_order(
        actor=await Staff.get(userid="zhangxiaoshou"),
        number=number,
        customer_name="黄女士",
        phone="13812345678",
        address="上海市徐汇区漕溪北路 88 弄",
        items=items,
        expected_measure_date=local_today() + timedelta(days=2),
        order_discount=Decimal(discount) if discount else None,
    )


async def test_a_priced_sale_stores_its_lines_and_amounts(world: World) -> None:
    await price_list("徐汇店", STORE, {"K5": "4600", "S1": "2900"}, start=local_today())
    ids = await product_ids("K5", "S1")
    order = await _sale(
        "LS20261201001",
        [
            ItemInput(ids["K5"], "主卫", 2, LinePrice(discount_pct=Decimal("10"))),  # 4140 each
            ItemInput(ids["S1"], "客卫", 1, LinePrice(unit_price=Decimal("3100.00"))),  # above list: allowed
        ],
        discount="280",
    )
    lines = (
        await OrderItem.filter(order_id=order.id)
        .order_by("id")
        .values_list("model", "list_price", "unit_price", "amount")
    )
    assert lines == [
        ("K5", Decimal("4600.00"), Decimal("4140.00"), Decimal("8280.00")),
        ("S1", Decimal("2900.00"), Decimal("3100.00"), Decimal("3100.00")),
    ]
    order = await Order.get(id=order.id)
    assert order.list_amount == Decimal("12100.00")
    assert order.discount_amount == Decimal("280.00")
    assert order.contract_amount == Decimal("11100.00")  # 8280 + 3100 - 280

    # The customer confirms: the computed amount is the contract, whatever is typed.
    order = await advance(order, OrderState.DESIGNED, day=local_today() + timedelta(days=1))
    await confirm_design(
        actor=await Staff.get(userid="zhangxiaoshou"),
        order=order,
        contract_amount=Decimal("1"),
        first_payment=Decimal("3000"),
        method=PaymentMethod.WECHAT,
        kind=PaymentKind.DEPOSIT,
    )
    assert (await Order.get(id=order.id)).contract_amount == Decimal("11100.00")


async def test_an_unpriced_sale_keeps_the_typed_contract(world: World) -> None:
    ids = await product_ids("K5")
    order = await _sale("LS20261201002", [ItemInput(ids["K5"], "主卫")])
    line = await OrderItem.get(order_id=order.id)
    assert (line.list_price, line.unit_price, line.amount) == (None, None, None)
    assert order.contract_amount is None and order.list_amount is None
    order = await advance(order, OrderState.CONFIRMED, day=local_today() + timedelta(days=1))
    assert order.contract_amount == Decimal("12800.00")  # what the demo's sales typed


async def test_an_order_discount_over_the_lines_creates_nothing(world: World) -> None:
    await price_list("徐汇店", STORE, {"K5": "4600"}, start=local_today())
    ids = await product_ids("K5")
    with pytest.raises(Invalid) as refused:
        await _sale("LS20261201003", [ItemInput(ids["K5"], "主卫")], discount="99999")
    assert refused.value.errors == {"order_discount": "整单优惠 99999.00 元超过产品合计 4600.00 元"}
    assert not await Order.filter(number="LS20261201003").exists()
    assert await OrderItem.all().count() == 0


async def test_a_discount_on_an_unpriced_product_is_refused(world: World) -> None:
    ids = await product_ids("E2")
    with pytest.raises(Invalid) as refused:
        await _sale("LS20261201004", [ItemInput(ids["E2"], "主卫", 1, LinePrice(discount_pct=Decimal("5")))])
    assert refused.value.errors == {"items": "未定价的产品不能按折扣计价，请直接填写单价"}
    with pytest.raises(Invalid) as refused:
        await _sale("LS20261201004", [ItemInput(ids["E2"], "主卫")], discount="100")
    assert refused.value.errors == {"order_discount": "订单中有未定价的产品，不能整单优惠"}
    assert not await Order.filter(number="LS20261201004").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "单价不能为负数"),
        ("12.345", "单价最多两位小数（精确到分）"),
        ("十元", "单价应为数字，如 1280 或 1280.50"),
        ("NaN", "单价应为数字，如 1280 或 1280.50"),
        ("1e12", "单价太大"),
    ],
)
def test_bad_amounts_are_refused_in_chinese(text: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        money(text, "items", label="单价")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("101", "折扣应在 0% 到 100% 之间"),
        ("-5", "折扣应在 0% 到 100% 之间"),
        ("9.999", "折扣最多两位小数"),
        ("八折", "折扣应为"),
    ],
)
def test_bad_discounts_are_refused_in_chinese(text: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        percent(text, "items")


def test_good_amounts_read_as_decimals() -> None:
    assert money("1,280.5", "x") == Decimal("1280.50")
    assert money("¥0", "x") == Decimal("0.00")
    assert money("  ", "x") is None
    assert percent("12.5%", "x") == Decimal("12.5")


async def test_a_retired_product_stays_on_its_old_order(world: World) -> None:
    await price_list("徐汇店", STORE, {"K5": "4600"}, start=local_today())
    ids = await product_ids("K5", "S1")
    order = await _sale("LS20261201005", [ItemInput(ids["K5"], "主卫")])
    admin = await Staff.get(userid="wangzong")
    await set_product_active(actor=admin, product_id=ids["K5"], active=False)

    # Not offered to a new order...
    with pytest.raises(Invalid, match="所选产品不存在或已下架"):
        await _sale("LS20261201006", [ItemInput(ids["K5"], "主卫")])
    # ...while the old order keeps its line, prices and all, and the measurer may still save it.
    order = await advance(order, OrderState.MEASURE_SCHEDULED, day=local_today() + timedelta(days=1))
    measurer = await Staff.get(userid="sunceliang")
    await adjust_items(actor=measurer, order=order, items=[ItemInput(ids["K5"], "主卫"), ItemInput(ids["S1"], "客卫")])
    lines = await OrderItem.filter(order_id=order.id).order_by("id").values_list("model", "unit_price")
    assert lines == [("K5", Decimal("4600.00")), ("S1", None)]
    order = await Order.get(id=order.id)
    assert order.contract_amount is None  # S1 has no price: the order is unpriced again
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
            html = await resp.text()
    assert "主卫：淋浴房 K系列 K5" in html and "¥4,600.00" in html and "未定价" in html


async def test_only_an_admin_retires_a_product(world: World) -> None:
    k5 = await Product.get(model="K5")
    with pytest.raises(NotAllowed):
        await set_product_active(actor=await Staff.get(userid="zhangxiaoshou"), product_id=k5.id, active=False)
    assert (await Product.get(id=k5.id)).active


async def test_changing_prices_after_confirmation(world: World) -> None:
    await price_list("徐汇店", STORE, {"K5": "4600", "S1": "2900"}, start=local_today())
    ids = await product_ids("K5", "S1")
    order = await _sale("LS20261201007", [ItemInput(ids["K5"], "主卫"), ItemInput(ids["S1"], "客卫", 2)])
    order = await advance(order, OrderState.CONFIRMED, day=local_today() + timedelta(days=1))
    assert order.contract_amount == Decimal("10400.00")
    k5_line, s1_line = await OrderItem.filter(order_id=order.id).order_by("id")
    sales = await Staff.get(userid="zhangxiaoshou")

    # While nothing is in production: the line changes, the contract follows, the timeline says so.
    await edit_prices(
        actor=sales, order=order, lines={s1_line.id: LinePrice(discount_pct=Decimal("10"))}, order_discount=None
    )
    order = await Order.get(id=order.id)
    assert order.contract_amount == Decimal("9820.00")  # 4600 + 2 x 2610
    event = await OrderEvent.filter(order_id=order.id, kind=EventKind.PRICES_CHANGED).first()
    assert event is not None and event.payload["what"] == "淋浴房 S系列 S1 单价"

    # Once a piece of the line is in production, its price stays; another line's may still change.
    await OrderPiece.filter(item_id=s1_line.id, seq=1).update(state=PieceState.IN_PRODUCTION)
    with pytest.raises(Conflict, match="淋浴房 S系列 S1 已开始生产，不能再修改价格"):
        await edit_prices(
            actor=sales, order=order, lines={s1_line.id: LinePrice(unit_price=Decimal("1.00"))}, order_discount=None
        )
    assert (await Order.get(id=order.id)).contract_amount == Decimal("9820.00")
    await edit_prices(actor=sales, order=order, lines={}, order_discount=Decimal("20"))
    assert (await Order.get(id=order.id)).contract_amount == Decimal("9800.00")
    # The contract may not fall below what was paid (the demo's deposit is 3000).
    with pytest.raises(Invalid, match="低于已收"):
        await edit_prices(
            actor=sales,
            order=order,
            lines={k5_line.id: LinePrice(unit_price=Decimal("0"))},
            order_discount=Decimal("5220"),
        )


async def test_products_import_reads_prices_units_and_specs(world: World) -> None:
    result = await import_products(
        "series,model,name,unit,list_price,specs\n"
        "门窗 断桥铝,D70,70 系列平开窗,㎡,1280.50,宽度mm=600-1800; 颜色=黑|灰\n"
        "新系列,N2,,,,\n"
    )
    assert (result.created, result.updated) == (1, 1)
    d70 = await Product.get(model="D70")
    assert (d70.unit, d70.list_price, d70.specs) == (
        "㎡",
        Decimal("1280.50"),
        {"宽度mm": "600-1800", "颜色": ["黑", "灰"]},
    )
    # An old file without the new columns leaves them as they are.
    await import_products("series,model,name\n门窗 断桥铝,D70,平开窗\n")
    d70 = await Product.get(model="D70")
    assert (d70.name, d70.list_price, d70.unit) == ("平开窗", Decimal("1280.50"), "㎡")
    for bad, message in (("-3", "list_price不能为负数"), ("1.005", "list_price最多两位小数")):
        with pytest.raises(Invalid, match=f"第 2 行：{message}"):
            await import_products(f"series,model,list_price\n门窗 断桥铝,D70,{bad}\n")
    assert (await Product.get(model="D70")).list_price == Decimal("1280.50")


async def test_price_entries_import(world: World) -> None:
    admin = await Staff.get(userid="wangzong")
    pl = await PriceList.create(name="华东区", org_unit=await OrgUnit.get(name="华东区"), valid_from=local_today())
    count = await import_price_entries(
        actor=admin, price_list_id=pl.id, text="series,model,price\n淋浴房 K系列,K5,4800\n淋浴房 S系列,S1,2900.5\n"
    )
    assert count == 2
    with pytest.raises(Invalid, match="第 3 行：产品 淋浴房 X系列 X9 不在目录中"):
        await import_price_entries(
            actor=admin, price_list_id=pl.id, text="series,model,price\n淋浴房 K系列,K5,1\n淋浴房 X系列,X9,1\n"
        )
    prices = dict(await PriceListEntry.filter(price_list_id=pl.id).values_list("product__model", "price"))
    assert prices == {"K5": Decimal("4800.00"), "S1": Decimal("2900.50")}  # all rows or none


async def test_the_demo_sells_at_its_price_lists(world: World) -> None:
    await seed_orders()  # with the demo's price lists
    amounts = dict(await Order.all().values_list("number", "contract_amount"))
    assert amounts["LS20261101"] == Decimal("8760.00")  # the store's promotion: K5 5680 + S1 3080
    assert amounts["LS20261103"] == Decimal("3160.00")  # the company's list: D70 1280 + Y2 1880
    assert amounts["LS20261104"] == Decimal("3544.00")  # S3 4680 less 20 %, less 200 off the order
    review = await Order.get(number="LS20261104")
    assert review.approval_state == ApprovalState.PENDING  # 20 % is beyond the 15 % threshold
    assert amounts["LS20261107"] == Decimal("3080.00")  # confirmed at its computed amount


async def test_the_order_card_shows_money_to_sales_not_to_the_designer(world: World) -> None:
    await price_list("徐汇店", STORE, {"K5": "4600"}, start=local_today())
    ids = await product_ids("K5")
    await _sale("LS20261201009", [ItemInput(ids["K5"], "主卫", 1, LinePrice(unit_price=Decimal("4400")))])

    def rows(userid: str) -> dict[str, str]:
        card = world.card(userid, "订单 LS20261201009").card
        return {r["keyname"]: r.get("value", "") for r in card.get("horizontal_content_list", [])}

    await world.say("zhangxiaoshou", "订单 LS20261201009")
    assert rows("zhangxiaoshou")["金额"] == "合同 ¥4,400.00（价目 ¥4,600.00，优惠 ¥200.00）"
    await world.say("zhengsheji", "订单 LS20261201009")
    assert "金额" not in rows("zhengsheji") and "产品" in rows("zhengsheji")


async def test_the_timeline_tells_money_only_to_those_who_see_it(world: World) -> None:
    order = await at_state("LS20261201010", OrderState.CONFIRMED)  # confirmed with its deposit
    assert await Payment.filter(order_id=order.id).exists()

    async def timeline_of(userid: str) -> str:
        async with world.signed_in(userid) as http:
            async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
                assert resp.status == 200
                html = await resp.text()
        return html[html.index('id="timeline"') :]

    sales = await timeline_of("zhangxiaoshou")
    assert re.search("登记收款 [0-9.]+ 元（定金", sales) and "合同金额" in sales
    warehouse = await timeline_of("fengcangku")  # sees the order, not its money
    assert "登记收款（定金）" in warehouse
    assert not re.search("[0-9] 元", warehouse) and "合同金额" not in warehouse
