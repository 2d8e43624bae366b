"""Driving Relay's H5 pages the way staff do: through the emulator's "open as member" link and the forms."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from PIL import Image, ImageDraw
from playwright.async_api import FloatRect, Locator, Page, expect

from infra.runtime import runtime
from infra.timeutil import local_today
from models import Order, OrderState, Product, Staff
from relay.demo import advance
from tests.support import World
from workflow.orders import ItemInput, create_order

SALES = "zhangxiaoshou"
DISPATCHERS = ("zhaopaidan", "qianpaidan")
# Who relay.demo.advance() gives an order's work to.
DESIGNER, WAREHOUSE, INSTALL_DISPATCHER, INSTALLER, AFTER_SALES = (
    "zhengsheji",
    "fengcangku",
    "zhaopaidan",
    "chenanzhuang",
    "weishouhou",
)

K5 = "淋浴房 K系列 K5（钻石形淋浴房）"
S1 = "淋浴房 S系列 S1（一字形淋浴屏）"


def paper_photo(path: Path) -> Path:
    """A JPEG that looks a little like a photographed paper order."""
    image = Image.new("RGB", (800, 600), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 760, 560), outline=(60, 60, 60), width=4)
    for y in range(100, 540, 40):
        draw.line((70, y, 730, y), fill=(150, 150, 150), width=2)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


@dataclass
class NewOrder:
    number: str
    customer_name: str = "黄女士"
    phone: str = "13812345678"
    address: str = "上海市徐汇区漕溪北路 88 弄 3 号 1201"
    items: list[tuple[str, str]] = field(default_factory=lambda: [("主卫", K5), ("客卫", S1)])
    expected_measure_date: date | None = field(default_factory=lambda: local_today() + timedelta(days=2))
    photo: Path | None = None


def open_link(world: World, userid: str, path: str) -> str:
    """What tapping a card's link to `path` does for `userid`: the emulator logs them in, then WeCom OAuth.

    Through OAuth like a card link, so a session another member left in this browser does not carry over.
    """
    url = runtime().links.oauth(path)
    return f"{world.emulator_url.rstrip('/')}/emulator/open?{urlencode({'userid': userid, 'url': url})}"


async def open_as(page: Page, world: World, userid: str, path: str) -> None:
    await page.goto(open_link(world, userid, path))


async def open_new_order_form(page: Page, world: World) -> None:
    await open_as(page, world, SALES, "/h5/orders/new")
    await expect(page.locator("header.bar h1")).to_have_text("新建订单")
    await expect(page.locator("header.bar .who")).to_have_text("张晓燕")


async def fill_new_order(page: Page, order: NewOrder) -> None:
    await page.get_by_label("订单号").fill(order.number)
    await page.get_by_label("客户姓名").fill(order.customer_name)
    await page.get_by_label("手机号").fill(order.phone)
    await page.get_by_label("地址").fill(order.address)
    if order.expected_measure_date is not None:
        await page.get_by_label("期望测量日期").fill(order.expected_measure_date.isoformat())
    rows = page.locator("#items .item-row")
    for i, (room, product) in enumerate(order.items):
        if i > 0:
            await page.get_by_role("button", name="＋ 添加产品").click()
        await expect(rows).to_have_count(i + 1)
        await rows.nth(i).get_by_placeholder("房间，如主卫").fill(room)
        await rows.nth(i).get_by_role("combobox").select_option(label=product)
    if order.photo is not None:
        await page.get_by_label("纸质订单照片").set_input_files(order.photo)


async def submit_new_order(page: Page) -> None:
    await page.get_by_role("button", name="提交订单").click()


async def create_order_in_browser(page: Page, world: World, order: NewOrder) -> None:
    """Sales fills and submits the new-order form; ends on the created order's page."""
    await open_new_order_form(page, world)
    await fill_new_order(page, order)
    await submit_new_order(page)
    await expect(page.locator("#created")).to_contain_text("订单已创建")
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {order.number}")


async def order_at(world: World, state: OrderState, number: str, *, models: tuple[str, ...] = ("K5", "S1")) -> Order:
    """An order sales created for 黄女士, walked through the real workflow to `state`, its cards delivered."""
    products = {p.model: p for p in await Product.all()}
    rooms = ("主卫", "客卫", "阳台", "厨房")
    order = await create_order(
        actor=await Staff.get(userid=SALES),
        number=number,
        customer_name="黄女士",
        phone="13812345678",
        address="上海市徐汇区漕溪北路 88 弄 3 号 1201",
        items=[ItemInput(product_id=products[m].id, room=rooms[i]) for i, m in enumerate(models)],
        expected_measure_date=local_today() + timedelta(days=2),
    )
    order = await advance(order, state, day=local_today() + timedelta(days=1))
    assert order.state == state, order.state
    await world.settle()
    return order


# The customer's signing pad (webviews/templates/sign.html)


async def expect_loaded(image: Locator) -> None:
    """Waits until an <img> has loaded, and checks it drew: a broken image is `complete` too. (Being visible
    is not being loaded: the box shows before the picture has arrived.)"""
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("img => img.naturalWidth > 0"), "the image did not load"


async def pad_box(page: Page) -> FloatRect:
    pad = page.locator("#pad")
    await pad.scroll_into_view_if_needed()
    box = await pad.bounding_box()
    assert box is not None
    return box


async def sign_with_mouse(page: Page) -> None:
    """A wavy surname across the pad, drawn with the mouse in two strokes."""
    box = await pad_box(page)
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.10, 0.70), (0.20, 0.25), (0.30, 0.75), (0.40, 0.30), (0.50, 0.70)],
        [(0.55, 0.40), (0.70, 0.45), (0.85, 0.35), (0.90, 0.75)],
    ]
    for stroke in strokes:
        await page.mouse.move(x + stroke[0][0] * w, y + stroke[0][1] * h)
        await page.mouse.down()
        for fx, fy in stroke[1:]:
            await page.mouse.move(x + fx * w, y + fy * h, steps=8)
        await page.mouse.up()


async def sign_with_finger(page: Page) -> None:
    """A finger stroke (real touch input, through Chromium's touch emulation) and two dots for the 'i's."""
    box = await pad_box(page)
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    cdp = await page.context.new_cdp_session(page)
    points = [(0.15 + 0.05 * i, 0.5 + (0.25 if i % 2 else -0.2)) for i in range(14)]
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point(x, y, w, h, points[0])]})
    for p in points[1:]:
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point(x, y, w, h, p)]})
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()
    for fx in (0.3, 0.6):
        await page.touchscreen.tap(x + fx * w, y + 0.12 * h)


def point(x: float, y: float, w: float, h: float, p: tuple[float, float]) -> dict[str, float]:
    return {"x": x + p[0] * w, "y": y + p[1] * h}
