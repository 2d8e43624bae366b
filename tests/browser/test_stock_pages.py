"""Stock on the warehouse keeper's phone: receive (入库) and count (盘点) through the forms, a wrong
quantity refused in words with nothing changed, and the list showing a level below its safety level."""

from __future__ import annotations

from playwright.async_api import Page, expect

from models import Product, Staff, StockLevel, StockMove, Warehouse
from tests.browser.conftest import Shot
from tests.browser.h5 import open_as
from tests.support import World
from workflow import stock
from workflow.admin import ensure_unit

KEEPER = "fengcangku"
HINGE = "配件 五金 HJ-01（淋浴房不锈钢合页）"


async def test_receive_and_count_on_the_phone(world: World, page: Page, shot: Shot) -> None:
    await Warehouse.create(name="华东仓", org_unit=await ensure_unit("朗斯家居/华东区"))
    hinge = await Product.get(model="HJ-01")
    await open_as(page, world, KEEPER, "/h5/stock")
    await expect(page.locator("#none")).to_be_visible()
    await page.locator("#to-receive").click()
    await expect(page.locator("header.bar h1")).to_have_text("入库")
    await page.get_by_label("产品").select_option(label=f"{HINGE}（配件）")
    # A quantity that is not a whole number is refused under its field, and nothing is received.
    await page.get_by_label("数量").fill("2.5")
    await page.get_by_role("button", name="确认入库").click()
    await expect(page.locator("#quantity-error")).to_have_text("数量必须是整数：2.5")
    await expect(page.get_by_label("产品")).to_have_value(str(hinge.id))  # what was chosen is kept
    assert not await StockMove.exists()
    await page.get_by_label("数量").fill("12")
    await page.get_by_label("说明（选填：供应商、单号、退货原因）").fill("五金厂 12 月到货")
    await page.get_by_role("button", name="确认入库").click()
    await expect(page.locator("#notice")).to_have_text("已入库 12")
    await expect(page.locator("li.level .on-hand")).to_have_text("12")
    first = page.locator("#moves li.move").first
    await expect(first).to_contain_text("入库 12 件")
    await expect(first.locator(".who")).to_have_text("冯仓管")
    await expect(first.locator(".why")).to_have_text("五金厂 12 月到货")

    await page.locator("#to-count").click()
    await expect(page.locator("header.bar h1")).to_have_text("盘点")
    await expect(page.get_by_label("产品")).to_have_value(str(hinge.id))
    await page.get_by_label("实盘数量").fill("-1")
    await page.get_by_role("button", name="记录盘点").click()
    await expect(page.locator("#counted-error")).to_have_text("数量不能是负数")
    await page.get_by_label("实盘数量").fill("10")
    await page.get_by_label("说明（选填）").fill("月底盘点，少 2 个")
    await page.get_by_role("button", name="记录盘点").click()
    await expect(page.locator("#notice")).to_have_text("盘点已记录：10（-2）")
    await expect(page.locator("#moves li.move").first).to_contain_text("盘点 差异 -2 件")
    await shot("after-count")
    level = await StockLevel.get(product_id=hinge.id)
    assert (level.on_hand, level.reserved) == (10, 0)


async def test_the_list_highlights_a_level_below_safety(world: World, page: Page, shot: Shot) -> None:
    warehouse = await Warehouse.create(name="华东仓", org_unit=await ensure_unit("朗斯家居/华东区"))
    keeper, buyer = await Staff.get(userid=KEEPER), await Staff.get(userid="caicaigou")
    hinge, handle = await Product.get(model="HJ-01"), await Product.get(model="LS-01")
    lines = [stock.Line(hinge.id, 3), stock.Line(handle.id, 30)]
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=lines, reason="到货")
    await open_as(page, world, "caicaigou", f"/h5/stock/products/{hinge.id}")
    await page.get_by_label("安全库存（件）").fill("5")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#notice")).to_have_text("安全库存已设为 5")
    await page.goto(page.url.split("/h5/")[0] + "/h5/stock")
    below = page.locator("#stock-table tr.below")
    await expect(below).to_have_count(1)
    await expect(below).to_contain_text(HINGE)
    await expect(below.locator(".available")).to_have_text("3")
    await expect(page.locator("#to-receive")).to_have_count(0)  # purchasing does not receive
    await page.get_by_label("搜索").fill("LS-01")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator("#stock-table tbody tr")).to_have_count(1)
    await shot("list")
    assert (await StockLevel.get(product_id=hinge.id)).below_safety and buyer.has_role("purchasing")
