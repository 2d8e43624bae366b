"""The managers' dashboard in Chromium: the chart shows, and the Excel export opens with Chinese labels and
figures a spreadsheet can add up."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from playwright.async_api import Page, expect

from cards.charts import HEIGHT, WIDTH
from tests.browser.h5 import open_as
from tests.support import World
from tests.test_stats import generate
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
    table = list(sheet.iter_rows(values_only=True))
    assert ("组织", "新建订单", "测量完成", "设计完成", "产品入库", "安装完成") in table
    total = next(row for row in table if row[0] == "华东区（合计）")
    assert total[1] == stats.total.counts["created"] and isinstance(total[1], int)
    waiting = table.index(("当前各环节待办", "订单数", None, None, None, None))
    first_state, first_count = next(iter(stats.waiting.items()))
    assert table[waiting + 1][:2] == (first_state.label, first_count)  # a number, not "待派测量 1"
