"""The dealer's cabinet on a phone: search the catalogue, put products in the cart at the dealer's prices,
change a quantity and the order type, submit; the dealer manager accepts on the order's page, and the dealer
sees the factory's order number and each piece."""

from __future__ import annotations

from playwright.async_api import Page, expect

from models import DealerOrder, DealerOrderState, DealerPiece
from tests.browser.conftest import Shot
from tests.browser.h5 import open_as
from tests.support import World
from tests.test_dealers import HENGMEI, MANAGER, dealer_prices


async def test_a_dealer_orders_from_the_catalogue_and_the_manager_accepts(world: World, page: Page, shot: Shot) -> None:
    await dealer_prices()
    await open_as(page, world, HENGMEI, "/h5/dealer")
    await page.locator("#q").fill("K5")
    await page.locator("#search").click()
    k5 = page.locator("form.product[data-model=K5]")
    await expect(k5).to_contain_text("¥3,980.00 / 套")
    await expect(page.locator("form.product")).to_have_count(1)
    await k5.locator("input[name=quantity]").fill("2")
    await k5.get_by_role("button", name="加入订货单").click()
    await expect(page.locator("#notice")).to_contain_text("已加入订货单")
    await page.locator("#series").select_option("淋浴房 S系列")
    await page.locator("#q").fill("")
    await page.locator("#search").click()
    await page.locator("form.product[data-model=S1]").get_by_role("button", name="加入订货单").click()
    await shot("catalogue")

    await page.locator("#cart").click()
    await expect(page.locator("#amount")).to_contain_text("¥10,140.00")
    s1 = page.locator("li.line[data-model=S1]")
    await s1.locator("input[type=number]").fill("3")
    await page.locator("#kind").select_option("replacement")
    await shot("cart")
    await page.locator("#step-submit").click()
    await expect(page.locator("#order-state")).to_have_text("待接单")
    await expect(page.locator("#amount")).to_contain_text("¥14,500.00")
    await expect(page.locator("#order-kind")).to_have_text("补换货")
    await expect(page.locator("#step-accept")).to_have_count(0)
    order = await DealerOrder.get(created_by__userid=HENGMEI)

    await open_as(page, world, MANAGER, "/h5/dealer/orders")
    await page.locator(f'tr[data-number="{order.number}"] a').click()
    await page.locator("#step-accept").click()
    await expect(page.locator("#order-state")).to_have_text("已接单")
    await order.refresh_from_db()
    assert order.state == DealerOrderState.ACCEPTED

    await open_as(page, world, HENGMEI, f"/h5/dealer/orders/{order.number}")
    await expect(page.locator("#factory-number")).to_have_text(order.factory_number or "")
    await expect(page.locator("li.piece")).to_have_count(await DealerPiece.filter(order_id=order.id).count())
    await expect(page.locator("li.piece .piece-state").first).to_have_text("待生产")
    await shot("followed")
