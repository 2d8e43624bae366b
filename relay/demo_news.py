"""The demo's news (公告): 刘经理's promotion to the region's sales and consultants, and 王总's price list (an
Excel file made from the demo's own company prices) to the managers. 张晓燕 has read the promotion already,
so 刘经理's receipts page shows one read and the rest unread."""

from __future__ import annotations

import csv
import io

import xlsxwriter

from infra.runtime import runtime
from models import News, OrgUnit, Role, Staff
from workflow.news import NewsInput, mark_read, post_news


def price_sheet(prices_csv: str) -> bytes:
    """The company price list as a spreadsheet a manager would forward: series, model, unit price."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("价目表")
    sheet.write_row(0, 0, ["系列", "型号", "单价（元）"], book.add_format({"bold": True}))
    for i, row in enumerate(csv.DictReader(prices_csv.splitlines()), start=1):
        sheet.write_row(i, 0, [row["series"], row["model"], float(row["price"])])
    sheet.set_column(0, 0, 18)
    book.close()
    return out.getvalue()


async def seed_news(prices_csv: str) -> None:
    if await News.exists():
        return
    region = await OrgUnit.get(name="华东区")
    company = await OrgUnit.get(parent_id=None)
    promotion = await post_news(
        author=await Staff.get(userid="liujingli"),
        form=NewsInput(
            title="双十二淋浴房促销",
            body="12 月 10 日至 12 月 14 日，淋浴房全系 9 折，到店客户加送五金套装一份。\n请各门店提前联系意向客户。",
            kind="promotion",
            roles=[Role.SALES.value, Role.CONSULTANT.value],
            unit_ids=[region.id],
        ),
    )
    await mark_read(await Staff.get(userid="zhangxiaoshou"), promotion)
    stored = await runtime().files.put_publication(price_sheet(prices_csv))
    await post_news(
        author=await Staff.get(userid="wangzong"),
        form=NewsInput(
            title="2027 年价目表",
            body="2027 年 1 月 1 日起执行，附件为全公司统一价目表。门店促销价以各店价目表为准。",
            kind="price_list",
            roles=[Role.MANAGER.value],
            unit_ids=[company.id],
        ),
        file=stored,
        file_name="2027年价目表.xlsx",
    )
