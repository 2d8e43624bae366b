"""The price review on a phone: the store manager opens 驳回 from the card, must give a reason, rejects;
sales sees why on the order and cannot confirm; new prices come back, 同意 on the page passes them on."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.async_api import Page, expect

from models import ApprovalState, Order, OrderState
from tests.browser.conftest import Shot
from tests.browser.h5 import SALES, open_as, order_at
from tests.browser.test_putting_right import post_as
from tests.support import World, form_errors
from tests.test_approval import REGION_MANAGER, STORE_MANAGER, price

NUMBER = "LS20261202301"


async def test_reject_with_a_reason_then_approve_on_the_page(world: World, page: Page, shot: Shot) -> None:
    order = await price(await order_at(world, OrderState.DESIGNED, NUMBER, models=("K5",)), [("10000", "7000")])
    await world.settle()
    card = world.card(STORE_MANAGER, "价格待审核")
    reject = next(b for b in card.buttons if b.text.startswith("驳回"))
    assert reject.type == 1 and f"/h5/orders/{NUMBER}/approval" in reject.url

    # The card's 驳回 opens the review page, signed in through WeCom as the store manager.
    await page.goto(f"{world.emulator_url}/emulator/open?{urlencode({'userid': STORE_MANAGER, 'url': reject.url})}")
    await expect(page.locator("header.bar h1")).to_have_text(f"价格审核 · {NUMBER}")
    await expect(page.locator("#approvers")).to_have_text("陈店长")
    await expect(page.locator("#contract-amount")).to_have_text("¥7,000.00")
    await expect(page.locator("#reasons")).to_contain_text("第 1 行折扣 30%（超过 15%）")
    # No reason: refused, nothing changed.
    await page.get_by_role("button", name="驳回").click()
    await expect(page.locator("#form-error")).to_have_text("请填写驳回原因")
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.PENDING
    await page.get_by_label("驳回原因（销售会收到）").fill("七折太低，最多八五折")
    await page.get_by_role("button", name="驳回").click()
    await expect(page.locator("#notice")).to_have_text("已驳回，已通知销售")
    await expect(page.locator("#approval-state")).to_have_text("已驳回")
    await expect(page.locator("#approval-history")).to_contain_text("门店审核（上海徐汇店） · 已驳回 · 陈店长")
    await expect(page.locator("#approve")).to_have_count(0)
    await shot("rejected")
    await world.settle()
    assert "七折太低，最多八五折" in world.card(SALES, "价格被驳回").card["quote_area"]["quote_text"]

    # Sales sees why, and the order page offers no confirmation; posting it anyway is refused.
    await open_as(page, world, SALES, f"/h5/orders/{NUMBER}")
    await expect(page.locator("#approval-state")).to_have_text("已驳回")
    await expect(page.locator("#approval-history")).to_contain_text("七折太低，最多八五折")
    await expect(page.locator("#actions")).not_to_contain_text("客户确认与收款")
    await expect(page.locator("#timeline")).to_contain_text(
        "陈店长 驳回价格（门店审核（上海徐汇店））：七折太低，最多八五折"
    )
    fields = {"contract_amount": "7000", "amount": "1000", "method": "cash", "kind": "deposit"}
    status, html = await post_as(world, SALES, f"/h5/orders/{NUMBER}/confirm", fields)
    assert status == 409 and form_errors(html) == f"订单 {NUMBER} 价格已被驳回，请修改价格重新提交审核，通过后才能投产"
    assert (await Order.get(id=order.id)).state == OrderState.DESIGNED

    # New prices: asked again; the store manager approves on the page, the region's manager is asked.
    await price(order, [("10000", "8000")])
    await open_as(page, world, STORE_MANAGER, f"/h5/orders/{NUMBER}")
    await page.locator("#actions").get_by_role("link", name="价格审核").click()
    await expect(page.locator("#discount")).to_have_text("20%")
    await page.get_by_role("button", name="同意").click()
    await expect(page.locator("#notice")).to_have_text("已同意")
    await expect(page.locator("#approvers")).to_have_text("刘经理")
    await expect(page.locator("#approve")).to_have_count(0)  # the region's level: not theirs
    await expect(page.locator("#approval-history")).to_contain_text(
        "第 2 次 · 门店审核（上海徐汇店） · 已审核通过 · 陈店长"
    )
    await shot("passed-on")
    await world.settle()
    assert world.card(REGION_MANAGER, "价格待审核").fields["审核"] == "区域审核（华东区）"
