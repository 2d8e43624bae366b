"""A service ticket from the customer's phone: the problem page (bad input refused, a photo sent), booked by
after-sales on the ticket's page, worked by the installer in the chat, confirmed with a signature on the
customer's ticket page, and on the order's timeline."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.async_api import Page, expect

from models import AttachmentCategory, OrderState, Staff, Ticket, TicketKind, TicketSource, TicketState
from tests.browser.conftest import NewPhone, ShotOf
from tests.browser.h5 import AFTER_SALES, expect_loaded, open_as, order_at, sign_with_finger
from tests.support import World, jpeg
from workflow.customer_link import customer_token
from workflow.selectors import order_view

NUMBER = "LS20261202001"


def photo_file(tmp_path: Path) -> Path:
    image = Image.new("RGB", (900, 1200), (180, 190, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    path = tmp_path / "漏水.jpg"
    path.write_bytes(out.getvalue())
    return path


async def test_a_customer_reports_a_problem_and_confirms_the_repair_on_a_phone(
    world: World, page: Page, new_phone: NewPhone, shot_of: ShotOf, tmp_path: Path
) -> None:
    order = await order_at(world, OrderState.INSTALLED, NUMBER)
    phone = await new_phone()
    await phone.goto(f"{world.relay_url.rstrip('/')}/c/{customer_token(order)}/problem")
    await expect(phone.locator("header h1")).to_have_text("报告问题")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Bad input: nothing chosen, then no words; a file that is not a photo. Each refused, nothing opened.
    submit = phone.get_by_role("button", name="提交")
    await submit.click()
    await expect(phone.locator("#problem-error")).to_have_text("请选择问题类型")
    await phone.get_by_label("维修（东西坏了、漏水、松动）").check()
    await submit.click()
    await expect(phone.locator("#problem-error")).to_have_text("请描述遇到的问题")
    await expect(phone.locator("#description")).to_have_class("invalid")
    await expect(phone.get_by_label("维修（东西坏了、漏水、松动）")).to_be_checked()  # what was chosen is kept
    await phone.get_by_label("请描述问题").fill("淋浴房移门底部漏水")
    not_a_photo = tmp_path / "说明.jpg"
    not_a_photo.write_bytes(b"this is not an image")
    await phone.get_by_label("照片（选填，最多 6 张）").set_input_files(not_a_photo)
    await submit.click()
    await expect(phone.locator("#problem-error")).to_contain_text("照片没有保存")
    assert not await Ticket.exists()
    await shot_of(phone, "refused")

    # With a photo: the ticket's page, in plain words.
    await phone.get_by_label("照片（选填，最多 6 张）").set_input_files(photo_file(tmp_path))
    await phone.get_by_role("button", name="提交").click()
    await expect(phone.locator("#sent")).to_contain_text("已提交")
    await expect(phone.locator("#ticket-state")).to_have_text("已收到，正在为您安排师傅")
    report = phone.get_by_role("img", name="报修照片")
    await expect(report).to_have_count(1)
    await expect_loaded(report)
    ticket = await Ticket.get(order_id=order.id)
    assert (ticket.kind, ticket.source) == (TicketKind.REPAIR, TicketSource.CUSTOMER)
    await world.settle()

    # After-sales books it on the ticket's page: the suggested installer first.
    await open_as(page, world, AFTER_SALES, f"/h5/orders/{NUMBER}/tickets/{ticket.id}")
    await expect(page.locator("#ticket-state")).to_have_text("待派单")
    await expect(page.locator("#description")).to_have_text("淋浴房移门底部漏水")
    suggested = page.locator("#dispatch-form label.choice").first
    await expect(suggested).to_contain_text("（推荐）")
    await page.get_by_role("button", name="派单").click()
    await expect(page.locator("#notice")).to_have_text("已派单，已通知师傅。")
    await world.settle()
    await ticket.refresh_from_db()
    worker = await Staff.get(id=ticket.assignee_id)
    await expect(page.locator("#assignee")).to_contain_text(worker.name)

    # The installer, in the chat: 接单, a photo before, one after, 完成.
    await world.tap(worker.userid, world.card(worker.userid, "新维修任务"), "接单")
    bench = world.card(worker.userid, "维修进行中")
    await world.photo(worker.userid, jpeg(color=(200, 10, 10)))
    await world.tap(worker.userid, bench, "发维修后照片")
    await world.photo(worker.userid, jpeg(color=(10, 200, 10)))
    await world.tap(worker.userid, bench, "完成")
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.DONE

    # The customer confirms with a signature.
    await phone.reload()
    await expect(phone.locator("#ticket-state")).to_have_text("师傅已处理完成，请您确认")
    await expect(phone.get_by_role("img", name="维修前照片")).to_have_count(1)
    await expect(phone.get_by_role("img", name="维修后照片")).to_have_count(1)
    await phone.get_by_label("留言（选填）").fill("修好了")
    await sign_with_finger(phone)
    await phone.get_by_role("button", name="确认已处理好").click()
    await expect(phone.locator("#ticket-state")).to_have_text("您已确认处理完成，感谢您的反馈")
    await expect(phone.get_by_role("img", name="客户签名")).to_be_visible()
    await expect(phone.get_by_role("button", name="确认已处理好")).to_have_count(0)
    await shot_of(phone, "confirmed")
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.CONFIRMED and ticket.confirm_comment == "修好了"
    assert await ticket.attachments.filter(category=AttachmentCategory.SIGNATURE).count() == 1

    lines = "\n".join((await order_view(order, with_timeline=True)).timeline)
    assert f"客户在订单页报修：维修工单 {ticket.number}（淋浴房移门底部漏水）" in lines
    assert f"客户确认维修工单 {ticket.number} 已完成（手写签名）" in lines
