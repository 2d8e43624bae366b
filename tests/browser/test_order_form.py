"""Sales opens the new-order H5 form from WeCom, fills it on a phone and submits it."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, Request, expect

from models import Attachment, AttachmentCategory, Customer, Order, OrderItem, OrderState, Product
from tests.browser.conftest import Shot
from tests.browser.h5 import (
    DISPATCHERS,
    K5,
    S1,
    NewOrder,
    create_order_in_browser,
    expect_loaded,
    fill_new_order,
    open_new_order_form,
    paper_photo,
    submit_new_order,
)
from tests.support import World


async def test_sales_creates_an_order_and_the_dispatchers_are_told(
    world: World, page: Page, shot: Shot, tmp_path: Path
) -> None:
    order = NewOrder(number="LS20261125001", photo=paper_photo(tmp_path / "纸质订单.jpg"))
    await open_new_order_form(page, world)
    await fill_new_order(page, order)
    await shot("filled")
    await submit_new_order(page)

    await expect(page.locator("#created")).to_have_text("订单已创建，已通知测量派单员。")
    await expect(page.locator("header.bar h1")).to_have_text("订单 LS20261125001")
    await expect(page.locator("#order-state")).to_have_text("待派测量")
    await expect(page.locator("#customer")).to_have_text("黄女士")
    await expect(page.locator("#phone")).to_have_text("138****5678")  # the full number on a tap (显示号码)
    await expect(page.locator("#summary")).to_contain_text("漕溪北路 88 弄")
    await expect(page.locator("#items")).to_contain_text("主卫：淋浴房 K系列 K5")
    await expect(page.locator("#items")).to_contain_text("客卫：淋浴房 S系列 S1")
    await expect(page.locator("#summary")).to_contain_text(order.expected_measure_date.isoformat())  # type: ignore[union-attr]
    # The paper order's photo is on the page, and its thumbnail really loads.
    thumb = page.get_by_role("img", name="纸质订单")
    await expect(thumb).to_be_visible()
    await expect_loaded(thumb)

    saved = await Order.get(number="LS20261125001")
    assert saved.state == OrderState.CREATED
    rooms = await OrderItem.filter(order_id=saved.id).order_by("id").values_list("room", "model")
    assert rooms == [("主卫", "K5"), ("客卫", "S1")]
    assert await Attachment.filter(order_id=saved.id, category=AttachmentCategory.PAPER_ORDER).count() == 1

    await world.settle()
    for dispatcher in DISPATCHERS:
        cards = [c for c in world.emu.cards(dispatcher) if c.title == "新订单待派测量"]
        assert len(cards) == 1, [c.title for c in world.emu.cards(dispatcher)]
        assert "LS20261125001" in cards[0].desc and "黄女士" in cards[0].desc
        assert any(text.startswith("派给") for text in cards[0].button_texts)
    await shot("created")


async def test_a_ten_digit_phone_is_caught_before_submitting(world: World, page: Page, shot: Shot) -> None:
    posts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posts.append(request.url)

    page.on("request", record)
    await open_new_order_form(page, world)
    await fill_new_order(page, NewOrder(number="LS20261125002", phone="1381234567"))
    await page.evaluate("window.sameDocument = true")
    await submit_new_order(page)

    hint = page.locator("#phone-hint")
    await expect(hint).to_contain_text("手机号应为 11 位数字")
    await expect(page.get_by_label("手机号")).to_have_class("invalid")
    await expect(page.get_by_label("手机号")).to_be_focused()
    assert await page.evaluate("window.sameDocument") is True
    assert await Order.all().count() == 0
    await shot("phone-hint")

    # Fixed, the same form goes through: it was the only POST the page ever made.
    await page.get_by_label("手机号").fill("13812345678")
    await expect(hint).not_to_contain_text("手机号应为")
    await submit_new_order(page)
    await expect(page.locator("#created")).to_contain_text("订单已创建")
    assert len(posts) == 1, posts
    assert await Order.all().count() == 1


async def test_a_known_phone_shows_its_orders_after_blur(world: World, page: Page, shot: Shot) -> None:
    await create_order_in_browser(page, world, NewOrder(number="LS20261125003", phone="13900001111"))

    await open_new_order_form(page, world)
    phone = page.get_by_label("手机号")
    await phone.fill("139 0000 1111")
    await phone.blur()
    hint = page.locator("#phone-hint")
    await expect(hint).to_contain_text("这个手机号已有 1 个订单")
    await expect(hint).to_contain_text("LS20261125003")
    await expect(phone).not_to_have_class("invalid")
    await shot("known-phone")

    # A new phone has nothing to say.
    await phone.fill("13700002222")
    await phone.blur()
    await expect(hint).to_have_text("")


async def test_a_duplicate_order_number_is_refused(world: World, page: Page, shot: Shot) -> None:
    await create_order_in_browser(page, world, NewOrder(number="LS20261125004"))
    orders, customers, items = await Order.all().count(), await Customer.all().count(), await OrderItem.all().count()

    await open_new_order_form(page, world)
    await fill_new_order(
        page, NewOrder(number="ls20261125004", customer_name="周先生", phone="13655556666", items=[("阳台", S1)])
    )
    await submit_new_order(page)

    await expect(page.locator("#form-error")).to_have_text("订单号 LS20261125004 已存在，请核对纸质订单编号")
    await expect(page.locator("header.bar h1")).to_have_text("新建订单")
    await expect(page.locator("#number-error")).to_have_text("订单号 LS20261125004 已存在，请核对纸质订单编号")
    await expect(page.get_by_label("订单号")).to_have_class("invalid")
    await shot("duplicate")
    # What was typed is still there to correct.
    await expect(page.get_by_label("客户姓名")).to_have_value("周先生")
    await expect(page.get_by_label("手机号")).to_have_value("13655556666")
    await expect(page.locator("#items .item-row")).to_have_count(1)
    await expect(page.locator("#items .item-row").first.get_by_role("combobox")).to_have_value(
        str((await Product.get(model="S1")).id)
    )
    assert (await Order.all().count(), await Customer.all().count(), await OrderItem.all().count()) == (
        orders,
        customers,
        items,
    )
    assert (await Order.get(number="LS20261125004")).address.startswith("上海市徐汇区")


async def test_a_non_image_paper_photo_is_refused(world: World, page: Page, shot: Shot, tmp_path: Path) -> None:
    fake = tmp_path / "纸质订单.jpg"
    fake.write_bytes(b"%PDF-1.4\nthis is not a photo\n" + bytes(range(256)) * 8)

    await open_new_order_form(page, world)
    await fill_new_order(page, NewOrder(number="LS20261125005", items=[("主卫", K5)], photo=fake))
    await submit_new_order(page)

    error = page.locator("#form-error")
    await expect(error).to_contain_text("不是有效的图片")
    await expect(page.get_by_label("纸质订单照片")).to_have_class("invalid")
    await expect(page.get_by_label("订单号")).to_have_value("LS20261125005")
    await shot("not-an-image")
    assert await Order.all().count() == 0
    assert await Customer.all().count() == 0
    assert await Attachment.all().count() == 0
