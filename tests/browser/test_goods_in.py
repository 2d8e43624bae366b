"""Goods-in on the warehouse's phone: one production number per piece, typed or from a handheld scanner
(it types the code and presses Enter), deliveries in parts, a number already used refused."""

from __future__ import annotations

from playwright.async_api import Page, expect

from emulator import CardView
from models import OrderEvent, OrderPiece, OrderState
from tests.browser.conftest import Shot
from tests.browser.h5 import INSTALL_DISPATCHER, SALES, WAREHOUSE, open_as, order_at
from tests.support import World
from tests.test_goods_in import WINDOWS, windows_order

NUMBER = "LS20261202001"


def arrival_cards(world: World) -> list[CardView]:
    return [c for c in world.emu.cards(INSTALL_DISPATCHER) if c.title == "已到货，待派安装" and NUMBER in c.desc]


async def scan(page: Page, code: str) -> None:
    """What a handheld scanner does: types the code into the focused box and presses Enter."""
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")


async def test_three_windows_take_three_numbers(world: World, page: Page, shot: Shot) -> None:
    elsewhere = await order_at(world, OrderState.IN_STOCK, "LS20261202002", models=("K5",))
    taken = await OrderPiece.get(order_id=elsewhere.id)
    order = await windows_order(world, NUMBER, OrderState.CONFIRMED)

    await open_as(page, world, WAREHOUSE, f"/h5/orders/{NUMBER}")
    await page.locator("#actions").get_by_role("link", name="入库登记", exact=True).click()
    await expect(page.locator("header.bar h1")).to_have_text(f"入库 · {NUMBER}")
    windows = page.locator("section.goods-item").filter(has_text=WINDOWS)
    boxes = page.get_by_placeholder("生产编号")
    await expect(boxes).to_have_count(4)  # one per piece: the enclosure and each of the three windows
    await expect(windows).to_contain_text("0/3 已到")
    await expect(page.locator("#goods-progress")).to_have_text("0/4 件")

    # The enclosure and two windows come with the first truck. The first box waits for the scanner;
    # each Enter moves on to the next box.
    await expect(page.get_by_label("主卫：淋浴房 K系列 K5 生产编号")).to_be_focused()
    await scan(page, "k5-0001")
    await expect(page.get_by_label(f"{WINDOWS} 第 1/3 件 生产编号")).to_be_focused()
    await scan(page, "W70-0001")
    await scan(page, "W70-0002")
    third = page.get_by_label(f"{WINDOWS} 第 3/3 件 生产编号")
    await expect(third).to_be_focused()
    # A window scanned twice is caught before anything is sent.
    await scan(page, "W70-0002")
    await expect(page.locator("#scan-hint")).to_have_text(f"生产编号 W70-0002 已经填在{WINDOWS} 第 2/3 件，请扫下一件")
    await expect(third).to_be_focused()
    await shot("first-delivery")
    await third.fill("")
    await expect(page.locator("#scan-hint")).to_have_text("")
    await page.get_by_role("button", name="登记到货").click()
    await expect(page.locator("#notice")).to_have_text("已登记 3 件")
    await expect(windows).to_contain_text("2/3 已到")
    await expect(windows).to_contain_text("✓ 第 1 件 · 生产编号 W70-0001 · 冯仓管")
    await expect(windows).to_contain_text("✓ 第 2 件 · 生产编号 W70-0002 · 冯仓管")
    await expect(page.locator("section.goods-item").filter(has_text="K5")).to_contain_text("✓ 生产编号 K5-0001")
    await expect(page.locator("#goods-progress")).to_have_text("3/4 件")
    await expect(page.locator("#order-state")).to_have_text("已确认")  # one window still to come
    await expect(boxes).to_have_count(1)
    await expect(third).to_be_focused()
    await world.settle()
    assert not arrival_cards(world)

    # The third window's label was swapped with another order's piece: refused, naming that order.
    await scan(page, taken.production_number or "")
    await expect(page.locator("#form-error")).to_have_text(
        f"生产编号 {taken.production_number} 已登记在订单 LS20261202002 的 主卫：淋浴房 K系列 K5，请核对编号"
    )
    await expect(third).to_have_value(taken.production_number or "")  # what was scanned stays to be checked
    await expect(page.locator("#notice")).to_have_count(0)  # the first delivery's banner is not shown again
    await expect(page.locator("#goods-progress")).to_have_text("3/4 件")
    await expect(page.locator("#order-state")).to_have_text("已确认")
    await shot("duplicate")

    # The right label: the last piece in, the order has arrived.
    await third.fill("")
    await scan(page, "W70-0003")
    await expect(page.locator("#notice")).to_have_text("已登记 1 件")
    await expect(page.locator("#order-state")).to_have_text("已到货")
    await expect(windows).to_contain_text("3/3 已到")
    await expect(page.locator("#goods-progress")).to_have_text("4/4 件")
    await expect(page.locator("#all-in")).to_have_text("全部产品已到货")
    await expect(page.get_by_role("button", name="登记到货")).to_have_count(0)
    await shot("all-in")

    pieces = OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")
    assert await pieces.values_list("production_number", "state") == [
        ("K5-0001", "in_stock"),
        ("W70-0001", "in_stock"),
        ("W70-0002", "in_stock"),
        ("W70-0003", "in_stock"),
    ]
    await world.settle()
    assert len(arrival_cards(world)) == 1
    assert NUMBER in world.card(SALES, "已到货").desc
    # The timeline has one line per piece.
    await open_as(page, world, WAREHOUSE, f"/h5/orders/{NUMBER}")
    for n in (1, 2, 3):
        await expect(page.locator("#timeline")).to_contain_text(
            f"冯仓管 入库 {WINDOWS} 第 {n}/3 件，生产编号 W70-000{n}"
        )
    assert await OrderEvent.filter(order_id=order.id, kind="goods_in").count() == 4
