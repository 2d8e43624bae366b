"""The customer's own order page on a phone: where the order is, the install photos, the way to the
signature and back, a reschedule request that reaches the dispatchers' card and comes back handled; and
staff's 客户查看链接 page: the QR code, copying the link, and taking every link back."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from infra.timeutil import local_today
from models import CustomerRequest, CustomerRequestState, OrderState, Staff, TaskKind
from tests.browser.conftest import NewPhone, ShotOf
from tests.browser.h5 import INSTALL_DISPATCHER, INSTALLER, SALES, expect_loaded, open_as, order_at, sign_with_mouse
from tests.support import World
from workflow.customer_link import customer_page_url
from workflow.tasks import dispatch_task


def payload(url: str) -> str:
    """What a customer link says (order, link version), without when it was signed."""
    return url.rsplit("/c/", 1)[1].split(".")[0]


async def fits(phone: Page) -> None:
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def test_the_customer_follows_the_order_and_signs_from_their_page(
    world: World, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    order = await order_at(world, OrderState.INSTALLED, "LS20261203001")
    phone = await new_phone()
    await phone.goto(customer_page_url(order))

    await expect(phone.locator("header h1")).to_have_text("我的订单")
    await expect(phone.locator("header")).to_contain_text("订单 LS20261203001 · 黄女士")
    await expect(phone.locator("#now")).to_have_text("安装已完成，请查看安装照片并签字确认")
    await expect(phone.locator("#next")).to_have_text("下一步：查看安装照片，在手机上签字确认")
    current = phone.locator("#progress li.current")
    await expect(current).to_contain_text("安装完成（当前）")
    await expect(phone.locator("#progress li.done")).to_have_count(7)
    await expect(phone.locator("#progress li.todo")).to_have_count(2)
    await expect(phone.locator("#phone")).to_have_text("138****5678")
    await expect(phone.locator("#items")).to_contain_text("主卫：淋浴房 K系列 K5")
    photos = phone.get_by_role("img", name="安装照片")
    await expect(photos).to_have_count(2)
    for i in range(2):
        await expect(photos.nth(i)).to_be_visible()
        await expect_loaded(photos.nth(i))
    await expect(phone.get_by_role("link", name="报修 / 反馈问题")).to_be_visible()
    await fits(phone)
    await shot_of(phone, "installed")

    await phone.get_by_role("link", name="查看并签字").click()
    await expect(phone.locator("header h1")).to_have_text("安装确认")
    await sign_with_mouse(phone)
    await phone.get_by_role("button", name="确认签字").click()
    await expect(phone.locator("#receipt")).to_contain_text("已签字确认")

    await phone.goto(customer_page_url(order))
    await expect(phone.locator("#signed")).to_contain_text("已签字确认")
    signature = phone.get_by_role("img", name="我的签字")
    await expect(signature).to_be_visible()
    await expect_loaded(signature)
    await expect(phone.get_by_role("link", name="查看并签字")).to_have_count(0)
    await expect(phone.locator("#progress li.current")).to_contain_text("签字（当前）")
    await expect(phone.locator("#next")).to_have_text("下一步：客服回访，听取您的评价")
    await shot_of(phone, "signed")


async def test_a_reschedule_request_from_the_phone_is_handled_by_the_dispatcher(
    world: World, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    order = await order_at(world, OrderState.IN_STOCK, "LS20261203002")
    installer = await Staff.get(userid=INSTALLER)
    task = await dispatch_task(
        actor=await Staff.get(userid=INSTALL_DISPATCHER),
        order=order,
        kind=TaskKind.INSTALL,
        worker_id=installer.id,
        day=local_today() + timedelta(days=2),
    )
    await world.settle()
    wanted = local_today() + timedelta(days=6)
    phone = await new_phone()
    await phone.goto(customer_page_url(order))
    await expect(phone.locator("#appointment h2")).to_have_text("安装预约")
    await expect(phone.locator("#appointment-day")).to_have_text(task.scheduled_date.isoformat())
    await expect(phone.locator("#appointment")).to_contain_text("陈师傅")

    await phone.get_by_text("时间不方便？申请改期").click()
    await phone.get_by_label("希望的日期").fill(task.scheduled_date.isoformat())
    await phone.get_by_label("时间段").select_option(label="上午")
    await phone.get_by_role("button", name="提交改期申请").click()
    await expect(phone.locator("#form-error")).to_have_text("希望的日期与原定日期相同")
    assert not await CustomerRequest.exists()

    await phone.get_by_label("希望的日期").fill(wanted.isoformat())
    await phone.get_by_label("留言（选填）").fill("下周三之后都可以")
    await fits(phone)
    await shot_of(phone, "asking")
    await phone.get_by_role("button", name="提交改期申请").click()
    await expect(phone.locator("#done")).to_contain_text("已提交改期申请")
    await expect(phone.locator("#request-state")).to_have_text(
        f"已提交改期申请（希望 {wanted.isoformat()} 上午），等待确认"
    )
    await expect(phone.locator("#reschedule-form")).to_have_count(0)
    await shot_of(phone, "asked")

    await world.settle()
    card = world.card("zhaopaidan", "客户申请安装改期")
    assert card.fields["客户希望"] == f"{wanted.isoformat()} 上午"
    assert card.fields["原定日期"] == task.scheduled_date.isoformat()
    assert "下周三之后都可以" in card.card["quote_area"]["quote_text"]
    assert card.button_texts == ["去改期", "已处理"]
    await world.tap("zhaopaidan", card, "已处理")
    assert world.card("zhaopaidan", "客户申请安装改期").replace_text == "已由赵静处理"
    request = await CustomerRequest.get(order_id=order.id)
    assert request.state == CustomerRequestState.HANDLED

    await phone.reload()
    await expect(phone.locator("#request-state")).to_have_text(
        "改期申请已处理，预约日期不变，如有疑问请联系您的销售顾问"
    )
    await expect(phone.locator("#reschedule-form")).to_have_count(1)


async def test_sales_shows_the_link_and_takes_it_back(
    world: World, page: Page, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    order = await order_at(world, OrderState.CONFIRMED, "LS20261203003")
    old = customer_page_url(order)
    await open_as(page, world, SALES, f"/h5/orders/{order.number}")
    await page.locator("#actions").get_by_role("link", name="客户查看链接").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"客户查看链接 · {order.number}")
    qr = page.get_by_role("img", name="客户查看二维码")
    await expect(qr).to_be_visible()
    await expect_loaded(qr)
    link = await page.locator("#customer-link").input_value()
    assert payload(link) == payload(old)  # the same order and link version (signed a moment apart)
    await page.get_by_role("button", name="复制链接").click()
    await expect(page.locator("#copied")).to_be_visible()
    await shot_of(page, "link")

    phone = await new_phone()
    await phone.goto(old)
    await expect(phone.locator("#now")).to_have_text("方案已确认，产品生产中")

    await page.get_by_role("button", name="收回客户链接").click()
    await expect(page.locator("#confirm-revoke-form")).to_contain_text("确认收回客户链接？")
    await page.get_by_role("link", name="不收回").click()
    await expect(page.locator("#confirm-revoke-form")).to_have_count(0)
    await phone.reload()
    await expect(phone.locator("#now")).to_have_text("方案已确认，产品生产中")  # nothing changed
    await page.get_by_role("button", name="收回客户链接").click()
    await page.get_by_role("button", name="确认收回").click()
    await expect(page.locator("#revoked")).to_contain_text("已收回此前发出的所有链接")
    fresh = await page.locator("#customer-link").input_value()
    assert payload(fresh) != payload(old)
    await shot_of(page, "revoked")

    await phone.reload()
    await expect(phone.locator("h1")).to_have_text("链接已失效")
    await expect(phone.locator("#message")).to_contain_text("请向您的销售顾问索取新的链接")
    assert order.number not in await phone.content()
    await phone.goto(fresh)
    await expect(phone.locator("#now")).to_have_text("方案已确认，产品生产中")
