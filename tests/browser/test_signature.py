"""The customer's signature on a real phone browser: the forwarded link, the signing pad, the receipt.

The customer has no account: their phone is a fresh touch-screen context with no cookies and no WeCom.
"""

from __future__ import annotations

import base64
import io
import time
from unittest import mock

from itsdangerous import URLSafeTimedSerializer
from PIL import Image, ImageChops, ImageDraw, ImageStat
from playwright.async_api import Page, expect

from models import Order, OrderState, Signature
from tests.browser.conftest import NewPhone, ShotOf
from tests.browser.h5 import (
    INSTALLER,
    SALES,
    expect_loaded,
    open_as,
    order_at,
    pad_box,
    sign_with_finger,
    sign_with_mouse,
)
from tests.support import World
from workflow.signing import signing_url

NUMBER = "LS20261127001"

# How many canvas pixels carry ink (alpha > 0): what the customer sees drawn in the box.
INKED_PIXELS = """() => {
  const c = document.getElementById('pad');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
  return n;
}"""

# Whether the pad shows ink at a point of the page (within a few pixels): where the finger went.
INK_AT = """([x, y]) => {
  const c = document.getElementById('pad'), r = c.getBoundingClientRect(), k = c.width / r.width;
  const d = c.getContext('2d').getImageData((x - r.left - 3) * k, (y - r.top - 3) * k, 6 * k, 6 * k).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
  return false;
}"""

# Which kinds of pointer touched the pad (mouse, touch), in order.
RECORD_POINTERS = """() => {
  window.pointerKinds = [];
  document.getElementById('pad').addEventListener('pointerdown', e => window.pointerKinds.push(e.pointerType));
}"""


def ink_fraction(png: bytes) -> float:
    """The share of pixels a person would see as ink: opaque and dark."""
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG", img.format
        rgba = img.convert("RGBA")
    opaque = rgba.getchannel("A").point(lambda a: 255 if a > 128 else 0)
    dark = rgba.convert("L").point(lambda v: 255 if v < 128 else 0)
    return float(ImageStat.Stat(ImageChops.multiply(opaque, dark)).mean[0]) / 255


async def test_the_customer_signs_on_a_phone_and_gets_a_receipt(
    world: World, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    order = await order_at(world, OrderState.INSTALLED, NUMBER)
    url = signing_url(order)
    phone = await new_phone()
    await phone.goto(url)

    # What the customer sees: whose order, where, the installed work, and an empty box to sign in.
    await expect(phone.locator("header h1")).to_have_text("安装确认")
    await expect(phone.locator("header")).to_contain_text(f"订单 {NUMBER}")
    await expect(phone.locator("main")).to_contain_text("漕溪北路 88 弄 3 号 1201")
    photos = phone.get_by_role("img", name="安装照片")
    await expect(photos).to_have_count(2)
    for i in range(2):
        await expect(photos.nth(i)).to_be_visible()
        await expect_loaded(photos.nth(i))
    await expect(phone.locator("#pad")).to_be_visible()
    await expect(phone.locator("#pad-hint")).to_have_text("请在此处签名")
    submit = phone.get_by_role("button", name="确认签字")
    clear = phone.get_by_role("button", name="清除重写")
    await expect(submit).to_be_disabled()
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot_of(phone, "before")

    await phone.evaluate(RECORD_POINTERS)
    await sign_with_mouse(phone)
    await expect(submit).to_be_enabled()
    await expect(phone.locator("#pad-hint")).to_be_hidden()
    assert await phone.evaluate(INKED_PIXELS) > 500
    await shot_of(phone, "drawn")

    await clear.click()
    await expect(submit).to_be_disabled()
    await expect(phone.locator("#pad-hint")).to_be_visible()
    assert await phone.evaluate(INKED_PIXELS) == 0

    await sign_with_finger(phone)
    await sign_with_mouse(phone)
    assert await phone.evaluate("window.pointerKinds.includes('touch') && window.pointerKinds.includes('mouse')")
    await expect(submit).to_be_enabled()
    await shot_of(phone, "signed-by-hand")
    await submit.click()

    receipt = phone.locator("#receipt")
    await expect(receipt).to_contain_text("已签字确认")
    await expect(phone.locator("header h1")).to_have_text("安装确认回执")
    image = phone.get_by_role("img", name="客户签字")
    await expect(image).to_be_visible()
    await expect_loaded(image)
    await expect(phone.locator("#pad")).to_have_count(0)
    src = await image.get_attribute("src")
    assert src
    response = await phone.request.get(world.relay_url.rstrip("/") + src)
    assert response.ok and response.headers["content-type"] == "image/png"
    assert ink_fraction(await response.body()) > 0.005
    await shot_of(phone, "receipt")

    await order.refresh_from_db()
    assert order.state == OrderState.SIGNED
    assert await Signature.filter(order_id=order.id).count() == 1
    await world.settle()
    card = world.card(SALES, "客户已签字")
    assert NUMBER in card.desc

    # Coming back to the link later shows the same receipt, with nothing left to sign.
    await phone.reload()
    await expect(receipt).to_contain_text("已签字确认")
    await expect(phone.get_by_role("img", name="客户签字")).to_be_visible()
    await expect(phone.locator("canvas")).to_have_count(0)
    await expect(phone.get_by_role("button", name="确认签字")).to_have_count(0)
    assert await Signature.filter(order_id=order.id).count() == 1


async def test_a_small_phone_fits_the_pad_and_keeps_the_signature_when_turned(
    world: World, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    order = await order_at(world, OrderState.INSTALLED, NUMBER)
    phone = await new_phone(width=320, height=568)
    await phone.goto(signing_url(order))

    # Nothing wider than the screen; scrolled down, the whole pad and both buttons are on screen together.
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await phone.locator("#sign-form").scroll_into_view_if_needed()
    box = await pad_box(phone)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320 and box["width"] >= 240, box
    await expect(phone.locator("#pad")).to_be_in_viewport(ratio=1)
    for name in ("清除重写", "确认签字"):
        await expect(phone.get_by_role("button", name=name)).to_be_in_viewport(ratio=1)
    await shot_of(phone, "small-before")

    await sign_with_finger(phone)
    await sign_with_mouse(phone)
    await expect(phone.get_by_role("button", name="确认签字")).to_be_enabled()
    portrait = await phone.evaluate(INKED_PIXELS)
    await shot_of(phone, "small-drawn")

    # Turned sideways mid-signature: what was drawn stays, and new ink lands under the finger, even at the far end.
    await phone.set_viewport_size({"width": 568, "height": 320})
    box = await pad_box(phone)
    assert box["x"] + box["width"] <= 568 and box["width"] > 400, box
    assert await phone.evaluate(INKED_PIXELS) >= portrait * 0.9
    y = box["y"] + box["height"] * 0.15
    start, end = box["x"] + box["width"] * 0.75, box["x"] + box["width"] * 0.95
    await phone.mouse.move(start, y)
    await phone.mouse.down()
    await phone.mouse.move(end, y, steps=6)
    await phone.mouse.up()
    assert await phone.evaluate(INK_AT, [end - 2, y])
    assert await phone.evaluate(INK_AT, [start + 2, y])
    await shot_of(phone, "turned")

    await phone.get_by_role("button", name="确认签字").click()
    await expect(phone.locator("#receipt")).to_contain_text("已签字确认")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await phone.set_viewport_size({"width": 320, "height": 568})
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot_of(phone, "small-receipt")
    await order.refresh_from_db()
    assert order.state == OrderState.SIGNED


async def test_expired_and_forged_links_are_refused(world: World, new_phone: NewPhone, shot_of: ShotOf) -> None:
    order = await order_at(world, OrderState.INSTALLED, NUMBER)
    serializer = URLSafeTimedSerializer(world.config.security.secret_key, salt="customer-signature")
    with mock.patch("time.time", return_value=time.time() - 8 * 86400):
        expired = serializer.dumps({"o": order.id, "n": order.number})
    other_key = URLSafeTimedSerializer("not-relays-key", salt="customer-signature")
    forged = other_key.dumps({"o": order.id, "n": order.number})
    base = world.relay_url.rstrip("/")
    phone = await new_phone()

    await phone.goto(f"{base}/sign/{expired}")
    await expect(phone.locator("h1")).to_have_text("链接已过期")
    await expect(phone.locator("#message")).to_contain_text("请联系安装师傅或销售重新发送")
    await expect(phone.locator("canvas")).to_have_count(0)
    await expect(phone.get_by_role("img", name="安装照片")).to_have_count(0)
    assert NUMBER not in await phone.content()
    await shot_of(phone, "expired")

    for token in (forged, "forged.token.value"):
        await phone.goto(f"{base}/sign/{token}")
        await expect(phone.locator("h1")).to_have_text("链接无效")
        await expect(phone.locator("canvas")).to_have_count(0)
        assert NUMBER not in await phone.content()
    await shot_of(phone, "forged")

    # Posting a signature through either link changes nothing either.
    signature = "data:image/png;base64," + base64.b64encode(signature_png()).decode()
    for token in (expired, forged):
        response = await phone.request.post(f"{base}/sign/{token}", form={"signature": signature})
        assert response.status == 403
    await order.refresh_from_db()
    assert order.state == OrderState.INSTALLED
    assert await Signature.all().count() == 0
    assert await Order.filter(state=OrderState.SIGNED).count() == 0


def signature_png() -> bytes:
    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(40, 150), (120, 40), (200, 160), (300, 50)], fill=(17, 17, 17, 255), width=5)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


async def test_the_installer_shows_the_customer_a_qr_code(
    world: World, page: Page, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    order = await order_at(world, OrderState.INSTALLED, NUMBER)
    await open_as(page, world, INSTALLER, f"/h5/orders/{NUMBER}/sign")
    await expect(page.locator("header.bar h1")).to_have_text(f"客户签字 · {NUMBER}")
    await expect(page.locator("header.bar .who")).to_have_text("陈师傅")
    qr = page.get_by_role("img", name="签字二维码")
    await expect(qr).to_be_visible()
    await expect_loaded(qr)
    link = page.locator("#sign-link")
    await expect(link).to_be_visible()
    value = await link.input_value()
    assert value.startswith(world.relay_url.rstrip("/") + "/sign/"), value
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot_of(page, "qr")

    # The link, forwarded to the customer, opens the signing page on their phone.
    phone = await new_phone()
    await phone.goto(value)
    await expect(phone.locator("header")).to_contain_text(f"订单 {NUMBER}")
    await expect(phone.locator("#pad")).to_be_visible()
    await order.refresh_from_db()
    assert order.state == OrderState.INSTALLED


async def test_the_order_page_shows_the_signature_as_ink_on_white(
    world: World, page: Page, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    order = await order_at(world, OrderState.INSTALLED, NUMBER)
    phone = await new_phone()
    await phone.goto(signing_url(order))
    await sign_with_mouse(phone)
    await phone.get_by_role("button", name="确认签字").click()
    await expect(phone.locator("#receipt")).to_contain_text("已签字确认")

    await open_as(page, world, SALES, f"/h5/orders/{NUMBER}")
    await expect(page.locator("#order-state")).to_have_text("客户已签字")
    thumb = page.get_by_role("img", name="客户签字")
    await expect(thumb).to_be_visible()
    await shot_of(page, "order-page")
    src = await thumb.get_attribute("src")
    assert src
    response = await page.request.get(world.relay_url.rstrip("/") + src)
    assert response.ok
    with Image.open(io.BytesIO(await response.body())) as img:
        brightness = ImageStat.Stat(img.convert("L")).mean[0]
    # Mostly paper-white with a little dark ink, as on the receipt; not a black square.
    assert brightness > 200, brightness
