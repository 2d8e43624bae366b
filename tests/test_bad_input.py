"""Bad input gets a clear refusal (a 4xx with a Chinese message) and changes nothing; nothing an outsider
sends makes the server decode a gigabyte or answer 500."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import struct
import zipfile
import zlib

import aiohttp

from models import Attachment, AttachmentCategory, OrderItem, OrderState, OrgUnit, Role, Signature
from tests.support import World
from tests.test_lifecycle import post_form
from tests.test_permissions import FAR, at_state, member
from workflow.signing import signing_url


def pixel_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """A valid grey PNG of width x height blank pixels: a few hundred KB that decode to width*height bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one byte a pixel
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


async def test_a_pixel_bomb_signature_is_refused_and_the_server_keeps_answering(world: World) -> None:
    order = await at_state("BI-BOMB", OrderState.INSTALLED)
    bomb = "data:image/png;base64," + base64.b64encode(pixel_bomb()).decode()
    async with aiohttp.ClientSession() as http:

        async def sign() -> tuple[int, str]:
            async with http.post(signing_url(order), data={"signature": bomb}) as resp:
                return resp.status, await resp.text()

        async def health() -> int:
            async with http.get(f"{world.relay_url}/healthz") as resp:
                return resp.status

        (status, page), *healthy = await asyncio.gather(sign(), *(health() for _ in range(5)))
    assert status == 400 and "签名图片尺寸不正确" in page
    assert healthy == [200] * 5
    await order.refresh_from_db()
    assert order.state == OrderState.INSTALLED
    assert not await Signature.filter(order_id=order.id).exists()


async def test_a_pixel_bomb_drawing_and_chat_photo_are_refused_undecoded(world: World) -> None:
    order = await at_state("BI-DRAW", OrderState.MEASURE_SCHEDULED)
    before = await Attachment.filter(order_id=order.id).count()
    status, page = await post_form(
        world,
        "sunceliang",
        f"/h5/orders/{order.number}/measure",
        [("action", "drawings")],
        files=[("drawings", pixel_bomb(), "平面图.png")],
    )
    assert status == 400 and "图片尺寸太大（10000×10000）" in page
    await world.photo("sunceliang", pixel_bomb(), "site.png")
    assert "照片没有保存：图片尺寸太大" in world.last_text("sunceliang")
    assert await Attachment.filter(order_id=order.id).count() == before


async def test_a_drawings_path_never_reaches_the_zip(world: World) -> None:
    order = await at_state("BI-ZIP", OrderState.MEASURE_SCHEDULED)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    status, _ = await post_form(
        world,
        "sunceliang",
        f"/h5/orders/{order.number}/measure",
        [("action", "drawings")],
        files=[("drawings", pdf, "../../x.pdf"), ("drawings", pdf + b" ", "..\\..\\y.pdf")],
    )
    assert status == 200
    names = set(
        await Attachment.filter(order_id=order.id, category=AttachmentCategory.DRAWING).values_list(
            "filename", flat=True
        )
    )
    assert names == {"x.pdf", "y.pdf"}
    async with world.browser_session("zhengsheji") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/files.zip") as resp:
            entries = zipfile.ZipFile(io.BytesIO(await resp.read())).namelist()
    assert sorted(e for e in entries if e.startswith("正式图纸/")) == ["正式图纸/x.pdf", "正式图纸/y.pdf"]
    assert not any(".." in e or "\\" in e or e.count("/") != 1 for e in entries), entries


async def test_numbers_no_order_can_have_are_not_found_not_errors(world: World) -> None:
    await at_state("BI-LONG", OrderState.CREATED)
    long_number = "LS" + "9" * 40
    await world.say("zhangxiaoshou", f"订单 {long_number}")
    assert world.last_text("zhangxiaoshou").startswith("没有找到订单 LS999")
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{long_number}") as resp:
            assert resp.status == 404 and "没有找到订单" in await resp.text()
        async with http.get(f"{world.relay_url}/api/v1/orders/{long_number}") as resp:
            assert resp.status == 404
        async with http.get(f"{world.relay_url}/h5/files/99999999999999999999") as resp:
            assert resp.status == 404
        async with http.get(f"{world.relay_url}/h5/orders/bi-long") as resp:
            assert resp.status == 200  # typed in lower case, the order is still found


async def test_an_export_out_of_scope_is_refused_not_an_error(world: World) -> None:
    far_manager = await member("far-mgr", Role.MANAGER, FAR)
    own = await OrgUnit.get(name="上海徐汇店")
    async with world.signed_in(far_manager.userid) as http:
        for path in ("/h5/dashboard/export.csv", "/h5/dashboard/export.xlsx", "/h5/dashboard/chart.png"):
            async with http.get(f"{world.relay_url}{path}", params={"unit": str(own.id)}) as resp:
                assert resp.status in (400, 403), (path, resp.status)
                assert "范围" in await resp.text() or "组织" in await resp.text()


async def test_a_room_that_looks_like_a_formula_is_text_in_the_csv(world: World) -> None:
    order = await at_state("BI-CSV", OrderState.CREATED)
    await OrderItem.filter(order_id=order.id).update(room='=HYPERLINK("http://evil","x")')
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/h5/orders.csv", params={"q": order.number}) as resp:
            text = (await resp.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    products = rows[1][rows[0].index("产品")]
    assert products.startswith("'=HYPERLINK"), products
