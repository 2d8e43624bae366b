"""The factory's production page on a phone: tick several pieces (or scan them) and move each to its
next step in one tap; a piece someone else moved meanwhile is named, the others still move."""

from __future__ import annotations

from playwright.async_api import Page, expect

from models import OrderPiece, PieceState, Staff
from tests.browser.conftest import Shot
from tests.browser.h5 import open_as
from tests.support import World
from tests.test_production import FACTORY, NUMBER, released
from workflow.production import move_piece


async def test_the_factory_moves_many_pieces_in_one_tap(world: World, page: Page, shot: Shot) -> None:
    order, pieces = await released(world)
    numbers = [p.production_number or "" for p in pieces]
    await open_as(page, world, FACTORY, "/h5/production")
    section = page.locator("section.production-order").filter(has_text=NUMBER)
    await expect(section).to_contain_text(order.production_order_number or "")
    await expect(section.locator("input[type=checkbox]")).to_have_count(4)

    # Two ticked by hand, the third scanned (the scanner types the code and presses Enter).
    await section.locator(f'input[data-number="{numbers[0]}"]').check()
    await section.locator(f'input[data-number="{numbers[1]}"]').check()
    await page.locator("#scanner").fill(numbers[2].lower())
    await page.locator("#scanner").press("Enter")
    await expect(page.locator("#scan-hint")).to_have_text(f"已勾选 {numbers[2]}")
    await expect(section.locator(f'input[data-number="{numbers[2]}"]')).to_be_checked()
    await shot("ticked")
    await page.get_by_role("button", name="推进到下一步").click()
    await expect(page.locator("#notice")).to_have_text("已推进 3 件")
    for n in numbers[:3]:
        await expect(page.locator(f'[data-state="{n}"]')).to_have_text("生产中")
    await expect(page.locator(f'[data-state="{numbers[3]}"]')).to_have_text("待生产")

    # Someone finishes the first piece from their phone while this page is open: it is named, the
    # second still moves.
    await section.locator(f'input[data-number="{numbers[0]}"]').check()
    await section.locator(f'input[data-number="{numbers[1]}"]').check()
    await move_piece(actor=await Staff.get(userid=FACTORY), piece=pieces[0])
    await page.get_by_role("button", name="推进到下一步").click()
    await expect(page.locator("#notice")).to_contain_text("已推进 1 件；未推进：")
    await expect(page.locator("#notice")).to_contain_text(numbers[0])
    states = [p.state for p in await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")]
    assert states == [PieceState.FINISHED, PieceState.FINISHED, PieceState.IN_PRODUCTION, PieceState.QUEUED]
    await shot("moved")

    # Nothing ticked: told so, nothing changed.
    await page.get_by_role("button", name="推进到下一步").click()
    await expect(page.locator("#form-error")).to_have_text("请先勾选或扫码要推进的产品")


async def test_only_the_factory_sees_the_production_page(world: World, page: Page) -> None:
    await released(world)
    await open_as(page, world, "zhangxiaoshou", "/h5/production")
    await expect(page.locator("body")).to_contain_text("只有工厂可以查看生产进度")
