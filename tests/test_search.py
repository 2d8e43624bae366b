"""Finding orders: by number, phone or name, with filters, only within what the viewer may see."""

from __future__ import annotations

import csv
import io

from infra.timeutil import local_today
from models import Product
from tests.support import World
from workflow.orders import ItemInput, create_order
from workflow.search import OrderFilter, search_orders


async def make(world: World, number: str, name: str, phone: str, sales: str = "zhangxiaoshou") -> None:
    product = await Product.get(model="S1")
    await create_order(
        actor=await world.staff(sales),
        number=number,
        customer_name=name,
        phone=phone,
        address="上海",
        items=[ItemInput(product_id=product.id, room="客卫")],
        expected_measure_date=local_today(),
    )


async def test_search_by_number_phone_and_name(world: World) -> None:
    await make(world, "A100", "黄丽华", "13811112222")
    await make(world, "A101", "王黄", "13933334444")
    await make(world, "B200", '=HYPERLINK("x")', "13755556666", sales="lixiaoshou")
    manager = await world.staff("wangzong")
    numbers = lambda orders: sorted(o.number for o in orders)  # noqa: E731
    assert numbers(await search_orders(manager, OrderFilter(q="a10"))) == ["A100", "A101"]
    assert numbers(await search_orders(manager, OrderFilter(q="黄"))) == ["A100", "A101"]
    assert numbers(await search_orders(manager, OrderFilter(q="138 1111 2222"))) == ["A100"]
    assert numbers(await search_orders(manager, OrderFilter(q="1381111"))) == []  # phones match whole, never partly
    assert numbers(await search_orders(manager, OrderFilter(state="created"))) == ["A100", "A101", "B200"]
    sales = await world.staff("zhangxiaoshou")
    assert numbers(await search_orders(sales, OrderFilter())) == ["A100", "A101"]  # not another store's order
    store_manager = await world.staff("chendianzhang")
    assert numbers(await search_orders(store_manager, OrderFilter())) == ["A100", "A101"]


async def test_h5_list_filters_and_csv_export(world: World) -> None:
    await make(world, "A100", "黄丽华", "13811112222")
    await make(world, "B200", '=HYPERLINK("x")', "13755556666", sales="lixiaoshou")
    async with world.browser_session("liujingli") as http:
        async with http.get(f"{world.relay_url}/h5/orders", params={"q": "黄"}) as resp:
            html = await resp.text()
            assert "共 1 个订单" in html and "A100" in html and "B200" not in html
        async with http.get(f"{world.relay_url}/h5/orders", params={"state": "nope"}) as resp:
            assert "未知的订单状态" in await resp.text()
        async with http.get(f"{world.relay_url}/h5/orders.csv") as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            text = (await resp.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["订单号", "状态", "客户"]
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {"A100", "B200"}
    assert by_number["B200"][2] == '\'=HYPERLINK("x")'  # never a live formula in Excel
    assert by_number["A100"][1] == "待派测量" and "客卫 淋浴房 S系列 S1" in by_number["A100"][6]
    await world.say("zhangxiaoshou", "查找 13811112222")
    assert world.card("zhangxiaoshou", "找到 1 个订单").card["quote_area"]["quote_text"].startswith("A100 黄丽华")
    await world.say("zhangxiaoshou", "查找 B200")
    assert world.last_text("zhangxiaoshou") == "没有找到与“B200”相关的订单。"
