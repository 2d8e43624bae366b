"""The managers' dashboard in Chromium: the chart shows, and the Excel export opens with Chinese labels and
figures a spreadsheet can add up."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from playwright.async_api import Page, expect

from cards.charts import HEIGHT, WIDTH
from tests.browser.h5 import open_as
from tests.support import World
from tests.test_stats import generate
from tests.test_stats_money import expected
from tests.test_stats_money import generate as money_orders
from workflow.admin import ensure_unit
from workflow.stats import parse_period, stats_for


async def test_a_manager_sees_the_chart_and_exports_the_numbers_to_excel(
    world: World, page: Page, tmp_path: Path
) -> None:
    await generate(40, seed=21)
    stats = await stats_for(await world.staff("liujingli"), parse_period("本月"))
    await open_as(page, world, "liujingli", "/h5/dashboard")
    await expect(page.locator("header.bar h1")).to_contain_text("数据看板 · 华东区")
    chart = page.locator("#chart")
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [WIDTH, HEIGHT]
    await expect(page.locator("#scores")).to_contain_text("销售")

    async with page.expect_download() as started:
        await page.locator("#export-xlsx").click()
    download = await started.value
    assert download.suggested_filename.startswith("数据统计-华东区-") and download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert sheet is not None
    # Rows as far as their last cell: the money section is wider than the counts.
    table = [tuple(row[: max((i + 1 for i, c in enumerate(row) if c is not None), default=0)]) for row in
             sheet.iter_rows(values_only=True)]  # fmt: skip
    assert ("组织", "新建订单", "测量完成", "设计完成", "产品入库", "安装完成") in table
    total = next(row for row in table if row[:1] == ("华东区（合计）",))
    assert total[1] == stats.total.counts["created"] and isinstance(total[1], int)
    waiting = table.index(("当前各环节待办", "订单数"))
    first_state, first_count = next(iter(stats.waiting.items()))
    assert table[waiting + 1][:2] == (first_state.label, first_count)  # a number, not "待派测量 1"


async def test_a_manager_picks_a_store_and_reads_its_money_by_series(world: World, page: Page, tmp_path: Path) -> None:
    made = await money_orders(90, seed=43)
    xuhui = await ensure_unit("朗斯家居/华东区/上海徐汇店")
    want = expected(made, {xuhui.id}, parse_period("本月"))
    await open_as(page, world, "liujingli", "/h5/dashboard")
    await expect(page.locator("#by-unit-money")).to_contain_text("上海徐汇店")
    await page.locator("#unit").select_option(label="上海徐汇店")
    await page.locator("#apply").click()
    await expect(page.locator("header.bar h1")).to_contain_text("数据看板 · 上海徐汇店")
    money = page.locator("#money")
    await expect(money.locator('[data-money="contract"]')).to_have_text(f"{want.contract:,.2f} 元")
    await expect(money.locator('[data-money="collected"]')).to_have_text(f"{want.collected:,.2f} 元")
    await expect(money.locator('[data-money="outstanding"]')).to_have_text(f"{want.outstanding:,.2f} 元")
    rows = page.locator("#by-series tr[data-series]")
    await expect(rows).to_have_count(len(want.series))
    biggest = max(want.series.items(), key=lambda kv: (kv[1][2], kv[0]))
    orders, quantity, amount = biggest[1]
    first = rows.first.locator("td")
    await expect(first).to_have_text(
        [biggest[0], str(orders), str(quantity), f"{amount:,.2f} 元", re.compile(r"\d+\.\d%")]
    )

    async with page.expect_download() as started:
        await page.locator("#export-xlsx").click()
    saved = tmp_path / "money.xlsx"
    await (await started.value).save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert sheet is not None
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    row = next(r for r in cells if r[:1] == [biggest[0]])
    assert row[1:4] == [orders, quantity, float(amount)] and isinstance(row[3], int | float)
