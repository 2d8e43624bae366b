"""Sales sells at prices: the new-order form shows each line's quantity x unit price and the contract
amount live as they type, the server's figures are the ones stored, a wrong price is refused with
nothing created; the measurer's order page shows no money; an admin keeps the catalogue and a price list."""

from __future__ import annotations

from decimal import Decimal

from playwright.async_api import Page, expect

from infra.timeutil import local_today
from models import Order, OrderItem, PriceList, PriceListEntry, Product
from tests.browser.conftest import Shot
from tests.browser.h5 import K5, S1, NewOrder, fill_new_order, open_as, open_new_order_form, submit_new_order
from tests.support import World
from workflow.admin import ensure_unit

NUMBER = "LS20261203001"


async def store_prices() -> None:
    store = await ensure_unit("朗斯家居/华东区/上海徐汇店")
    pl = await PriceList.create(name="徐汇店 2026", org_unit=store, valid_from=local_today())
    for model, price in (("K5", "4600"), ("S1", "2900")):
        await PriceListEntry.create(price_list=pl, product=await Product.get(model=model), price=Decimal(price))


async def test_the_form_totals_live_and_the_server_stores_the_same(world: World, page: Page, shot: Shot) -> None:
    await store_prices()
    await open_new_order_form(page, world)
    await fill_new_order(page, NewOrder(number=NUMBER, items=[("主卫", K5), ("客卫", S1)]))
    rows = page.locator("#items .item-row")
    await expect(rows.nth(0).locator("[data-role=list-price]")).to_have_text("价目 ¥4,600.00/套")
    specs = rows.nth(0).locator("[data-role=specs]")
    await expect(specs).to_contain_text("规格：")
    for part in ("边长mm=800-1100", "玻璃=10mm 钢化", "颜色=亮银|枪灰"):  # PostgreSQL's jsonb orders keys its way
        await expect(specs).to_contain_text(part)
    await expect(page.locator("#lines-total")).to_have_text("¥7,500.00")
    await expect(page.locator("#contract-total")).to_have_text("¥7,500.00")

    await rows.nth(0).get_by_label("折扣%").fill("10")
    await expect(rows.nth(0).locator("[data-role=line-amount]")).to_have_text("1 × ¥4,140.00 = ¥4,140.00")
    await rows.nth(1).locator("[name=quantity]").fill("2")
    await rows.nth(1).get_by_label("成交单价").fill("2850")
    await expect(rows.nth(1).locator("[data-role=line-amount]")).to_have_text("2 × ¥2,850.00 = ¥5,700.00")
    await expect(page.locator("#lines-total")).to_have_text("¥9,840.00")
    await page.get_by_label("整单优惠（元）").fill("40")
    await expect(page.locator("#contract-total")).to_have_text("¥9,800.00")
    await shot("priced")
    await submit_new_order(page)

    await expect(page.locator("#created")).to_contain_text("订单已创建")
    await expect(page.locator("#contract")).to_have_text("¥9800.00")
    lines = page.locator("#priced-lines tr.line")
    await expect(lines).to_have_count(2)
    await expect(lines.nth(0)).to_contain_text("¥4,600.00")
    await expect(lines.nth(0)).to_contain_text("¥4,140.00")
    await expect(lines.nth(1)).to_contain_text("¥5,700.00")
    await expect(page.locator("#list-amount")).to_have_text("¥10400.00")
    await expect(page.locator("#discount-amount")).to_have_text("¥40.00")
    order = await Order.get(number=NUMBER)
    assert (order.contract_amount, order.list_amount, order.discount_amount) == (
        Decimal("9800.00"),
        Decimal("10400.00"),
        Decimal("40.00"),
    )
    stored = await OrderItem.filter(order_id=order.id).order_by("id").values_list("unit_price", "amount")
    assert stored == [(Decimal("4140.00"), Decimal("4140.00")), (Decimal("2850.00"), Decimal("5700.00"))]

    # The designer works on the order without its money.
    await open_as(page, world, "zhengsheji", f"/h5/orders/{NUMBER}")
    await expect(page.locator("#items")).to_contain_text("主卫：淋浴房 K系列 K5")
    await expect(page.locator("#priced-lines")).to_have_count(0)
    await expect(page.locator("#contract")).to_have_count(0)
    assert "9800" not in await page.content()
    await open_as(page, world, "zhengsheji", f"/h5/orders/{NUMBER}/prices")
    await expect(page.locator("main")).to_contain_text("价格与金额只对销售、管理层、财务和管理员显示")
    assert "4,140" not in await page.content()


async def test_a_wrong_price_is_refused_and_nothing_is_created(world: World, page: Page, shot: Shot) -> None:
    await store_prices()
    await open_new_order_form(page, world)
    await fill_new_order(page, NewOrder(number=NUMBER, items=[("主卫", K5), ("客卫", S1)]))
    rows = page.locator("#items .item-row")
    await rows.nth(1).get_by_label("成交单价").fill("12.345")
    await expect(page.locator("#contract-total")).to_have_text("请检查价格")
    await submit_new_order(page)
    await expect(page.locator("#form-error")).to_have_text("第 2 个产品：单价最多两位小数（精确到分）")
    await expect(page.locator("#items-error")).to_have_text("第 2 个产品：单价最多两位小数（精确到分）")
    await expect(rows.nth(1).get_by_label("成交单价")).to_have_value("12.345")  # kept to correct
    await shot("refused")
    assert not await Order.filter(number=NUMBER).exists()

    await page.get_by_label("整单优惠（元）").fill("-5")
    await rows.nth(1).get_by_label("成交单价").fill("")
    await submit_new_order(page)
    await expect(page.locator("#order_discount-error")).to_have_text("整单优惠不能为负数")
    assert not await Order.filter(number=NUMBER).exists()


async def test_an_admin_adds_retires_and_prices_products(world: World, page: Page, shot: Shot) -> None:
    await open_as(page, world, "wangzong", "/h5/orders")
    await page.locator("#admin-links").get_by_role("link", name="产品目录").click()
    await expect(page.locator("header.bar h1")).to_have_text("产品目录")
    form = page.locator("#new-product")
    await form.get_by_label("系列").fill("门窗 断桥铝")
    await form.get_by_label("型号").fill("D90")
    await form.get_by_label("计量单位").fill("樘")
    await form.get_by_label("目录价（元）").fill("-1")
    await form.get_by_label("规格").fill("宽度mm=600-1800; 颜色=黑|灰")
    await page.get_by_role("button", name="添加产品").click()
    await expect(page.locator("#list_price-error")).to_have_text("目录价不能为负数")
    assert not await Product.filter(model="D90").exists()
    await form.get_by_label("目录价（元）").fill("1880")
    await page.get_by_role("button", name="添加产品").click()
    await expect(page.locator("#notice")).to_have_text("已添加 门窗 断桥铝 D90")
    d90 = await Product.get(model="D90")
    assert (d90.unit, d90.list_price, d90.specs) == (
        "樘",
        Decimal("1880.00"),
        {"宽度mm": "600-1800", "颜色": ["黑", "灰"]},
    )

    k5 = page.locator(f"#products li[data-product='{(await Product.get(model='K5')).id}']")
    await k5.get_by_role("button", name="下架").click()
    await expect(page.locator("#notice")).to_have_text("已下架 淋浴房 K系列 K5")
    await expect(k5).to_contain_text("已下架")
    assert not (await Product.get(model="K5")).active
    await shot("catalogue")

    # A price list for the region, with a price typed on its page.
    await page.get_by_role("link", name="价目表（按门店、区域设置价格）").click()
    new = page.locator("#new-price-list")
    await new.get_by_label("名称").fill("华东区 2026")
    await new.get_by_label("适用组织").select_option(label="　华东区")
    await new.get_by_label("生效日期").fill(local_today().isoformat())
    await new.get_by_label("失效日期（含当天，留空为长期）").fill("2000-01-01")
    await page.get_by_role("button", name="创建价目表").click()
    await expect(page.locator("#valid_to-error")).to_have_text("失效日期不能早于生效日期")
    assert not await PriceList.exists()
    await new.get_by_label("失效日期（含当天，留空为长期）").fill("")
    await page.get_by_role("button", name="创建价目表").click()
    await expect(page.locator("#notice")).to_have_text("价目表已创建")
    await page.get_by_label("淋浴房 S系列 S1（一字形淋浴屏） 价格").fill("2999.5")
    await page.get_by_role("button", name="保存价格").click()
    await expect(page.locator("#notice")).to_have_text("价格已保存")
    entry = await PriceListEntry.get(product__model="S1")
    assert entry.price == Decimal("2999.50")
