"""The whole life of an order, sale to after-sales visit, driven as staff and the customer would."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest
from itsdangerous import URLSafeTimedSerializer
from PIL import Image, ImageDraw

from models import (
    Attachment,
    AttachmentCategory,
    Job,
    Order,
    OrderPiece,
    OrderState,
    Payment,
    Signature,
    Staff,
    Task,
    TaskKind,
    TaskState,
    Visit,
)
from tests.support import World, assignee_of, form_errors, jpeg
from tests.test_measure_slice import SALES, create_order_via_form, csrf, dispatch_by_card

DESIGNER, WAREHOUSE, INSTALL_DISPATCHER, AFTER_SALES = "zhengsheji", "fengcangku", "zhaopaidan", "weishouhou"
MANAGERS = ("wangzong", "liujingli", "chendianzhang")

# Signatures and photos on this machine's disk and in a bucket (tests/s3_server.py).
pytestmark = pytest.mark.parametrize("storage_backend", ["disk", "bucket"])


def signature_png(strokes: bool = True) -> str:
    import base64

    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    if strokes:
        draw = ImageDraw.Draw(img)
        draw.line([(40, 150), (120, 40), (200, 160), (300, 50), (420, 140)], fill=(17, 17, 17, 255), width=4)
    out = io.BytesIO()
    img.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def post_form(
    world: World,
    userid: str,
    path: str,
    fields: list[tuple[str, str]],
    files: list[tuple[str, bytes, str]] | None = None,
) -> tuple[int, str]:
    async with world.browser_session(userid) as http:
        async with http.get(f"{world.relay_url}{path}") as resp:
            assert resp.status == 200, (path, resp.status)
            token = csrf(await resp.text())
        form = aiohttp.FormData()
        form.add_field("csrf", token)
        for name, value in fields:
            form.add_field(name, value)
        for name, data, filename in files or []:
            form.add_field(name, data, filename=filename, content_type="application/octet-stream")
        async with http.post(f"{world.relay_url}{path}", data=form) as resp:
            return resp.status, await resp.text()


async def measured_order(world: World, order: Order | None = None) -> Order:
    """An order (by default a new one from the form) dispatched, measured and finished, by chat."""
    order = order or await create_order_via_form(world)
    task = await dispatch_by_card(world, order)
    measurer = await assignee_of(task)
    await world.tap(measurer, world.card(measurer, "新测量任务"), "接单")
    await world.photo(measurer)
    await world.tap(measurer, world.card(measurer, "照片已保存，请选择分类"), "墙地")
    await world.tap(measurer, world.card(measurer, "测量进行中"), "测量完成")
    await order.refresh_from_db()
    assert order.state == OrderState.MEASURED
    return order


async def designed_order(world: World, order: Order | None = None) -> Order:
    order = await measured_order(world, order)
    dxf = b"0\nSECTION\n2\nHEADER\n0\nENDSEC\n0\nEOF\n"
    status, html = await post_form(
        world, DESIGNER, f"/h5/orders/{order.number}/design", [("action", "upload")], [("files", dxf, "主卫设计.dxf")]
    )
    assert status == 200 and "设计文件已上传" in html, form_errors(html)
    status, html = await post_form(world, DESIGNER, f"/h5/orders/{order.number}/design", [("action", "finish")])
    assert status == 200, form_errors(html)
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.DESIGNED
    return order


async def test_sale_to_visit(world: World) -> None:
    order = await designed_order(world)
    done = world.card(SALES, "设计完成")
    assert "1 份设计文件" in done.card["emphasis_content"]["title"]

    # Sales: the customer accepts the design and pays a deposit; the rest comes later.
    path = f"/h5/orders/{order.number}/confirm"
    fields = [("contract_amount", "12,800"), ("amount", "3000"), ("kind", "deposit"), ("method", "wechat")]
    status, html = await post_form(world, SALES, path, fields)
    assert status == 200, form_errors(html)
    assert "¥12800.00" in html and "¥3000.00 / ¥9800.00" in html
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.CONFIRMED and order.contract_amount == Decimal("12800.00")
    world.card(WAREHOUSE, "订单已确认，待生产入库")
    status, html = await post_form(
        world,
        SALES,
        f"/h5/orders/{order.number}/payments",
        [("amount", "10000"), ("kind", "balance"), ("method", "transfer")],
    )
    assert status == 400 and "超过未收金额 9800.00 元" in form_errors(html)
    status, html = await post_form(
        world,
        SALES,
        f"/h5/orders/{order.number}/payments",
        [("amount", "9800"), ("kind", "balance"), ("method", "transfer")],
    )
    assert status == 200 and "收款已登记" in html
    assert sum(p.amount for p in await Payment.filter(order_id=order.id)) == Decimal("12800.00")

    # Warehouse: pick the order in chat, scan one production number, type the other on the page.
    await world.say(WAREHOUSE, f"入库 {order.number}")
    world.card(WAREHOUSE, f"入库 · 订单 {order.number}")
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "CODE_128,P2026-0001")
    await world.settle()
    pick = world.card(WAREHOUSE, "扫码入库：属于哪件产品？")
    await world.tap(WAREHOUSE, pick, "主卫：淋浴房 K系列 K5")
    assert world.emu.card(WAREHOUSE, pick.msgid).replace_text == "已入库：P2026-0001"
    await order.refresh_from_db()
    assert order.state == OrderState.CONFIRMED  # one item still to come
    missing = await OrderPiece.get(order_id=order.id, arrived_at__isnull=True)
    status, html = await post_form(
        world,
        WAREHOUSE,
        f"/h5/orders/{order.number}/goods-in",
        [("piece_id", str(missing.id)), ("production_number", "P2026-0001")],
    )
    assert status == 409 and "已登记在订单" in form_errors(html)
    status, html = await post_form(
        world,
        WAREHOUSE,
        f"/h5/orders/{order.number}/goods-in",
        [("piece_id", str(missing.id)), ("production_number", "p2026-0002")],
    )
    assert status == 200, form_errors(html)
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.IN_STOCK
    world.card(SALES, "已到货")

    # Install dispatch, the installer's photos (2 needed per the catalogue default) and done.
    arrived = world.card(INSTALL_DISPATCHER, "已到货，待派安装")
    await world.tap(INSTALL_DISPATCHER, arrived, "派给")
    install = await Task.get(order_id=order.id, kind=TaskKind.INSTALL)
    installer = (await Staff.get(id=install.assignee_id)).userid  # type: ignore[arg-type]
    world.card(SALES, "已预约安装")
    await world.tap(installer, world.card(installer, "新安装任务"), "接单")
    bench = world.card(installer, "安装进行中")
    await world.tap(installer, bench, "照片归入此单")
    await world.photo(installer, jpeg(color=(5, 5, 200)))
    assert world.last_text(installer).endswith("还需 1 张）")
    await world.tap(installer, world.card(installer, "安装进行中"), "安装完成")
    assert world.last_text(installer) == "安装照片不足：至少需要 2 张，已上传 1 张"
    await world.photo(installer, jpeg(color=(5, 200, 5)))
    await world.tap(installer, world.card(installer, "安装进行中"), "安装完成")
    await order.refresh_from_db()
    assert order.state == OrderState.INSTALLED
    for userid in (SALES, *MANAGERS):
        assert "2 张安装照片" in world.card(userid, "安装完成").card["emphasis_content"]["title"]
    visit_card = world.card(AFTER_SALES, "待回访")
    assert order.number in visit_card.desc

    # The customer signs on the phone, from the link sales forwards; no account needed.
    sign_url = next(b.url for b in world.card(SALES, "请客户签字确认").buttons if b.text == "打开签字页")
    async with aiohttp.ClientSession() as customer:
        async with customer.get(sign_url) as resp:
            page = await resp.text()
            assert resp.status == 200 and "请在此处签名" in page and page.count('alt="安装照片"') == 2
        async with customer.post(sign_url, data={"signature": signature_png(strokes=False)}) as resp:
            assert resp.status == 400 and "请先在方框内手写签名" in await resp.text()
        assert await Signature.filter(order_id=order.id).count() == 0
        async with customer.post(sign_url, data={"signature": signature_png()}) as resp:
            receipt = await resp.text()
            assert resp.status == 200 and "已签字确认" in receipt and 'id="signature-image"' in receipt
        async with customer.post(sign_url, data={"signature": signature_png()}) as resp:
            assert resp.status == 409 and "已经签过字" in await resp.text()
        image = re.search(r'id="signature-image" src="([^"]+)"', receipt)
        assert image
        async with customer.get(world.relay_url + image.group(1)) as resp:
            assert resp.status == 200 and resp.content_type == "image/png"
    assert await Signature.filter(order_id=order.id).count() == 1
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.SIGNED
    world.card(SALES, "客户已签字")

    # After-sales: the visit call, with a low installer score that alerts the managers.
    fields = [
        ("reached", "yes"),
        ("score_sales", "5"),
        ("score_measurer", "4"),
        ("score_installer", "1"),
        ("comment_installer", "安装后没有清理现场"),
        ("notes", "客户总体满意"),
    ]
    status, html = await post_form(world, AFTER_SALES, f"/h5/orders/{order.number}/visit", fields)
    assert status == 200, form_errors(html)
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.VISITED
    visit = await Visit.get(order_id=order.id)
    assert (visit.score_sales, visit.score_measurer, visit.score_installer) == (5, 4, 1)
    for manager in MANAGERS:
        alert = world.card(manager, "预警：客户评分偏低")
        assert (
            "安装" in alert.card["quote_area"]["quote_text"]
            and "没有清理现场" in alert.card["quote_area"]["quote_text"]
        )
    measure = await Task.get(order_id=order.id, kind=TaskKind.MEASURE)
    # A person's score is the mean over everything they did: here maybe both measuring and installing.
    expected = 2.5 if measure.assignee_id == install.assignee_id else 1.0
    assert (await Staff.get(userid=installer)).score == expected
    assert (await Staff.get(userid=SALES)).score == 5.0
    reminders = await Job.filter(kind="maintenance_reminder").order_by("key")
    assert {r.payload["series"] for r in reminders} == {"淋浴房 K系列", "淋浴房 S系列"}
    # Shower enclosures are cleaned every 6 months (the demo catalogue's cycle for the series).
    assert all(timedelta(days=170) < r.due_at - datetime.now(UTC) < timedelta(days=190) for r in reminders)
    assert (await Task.get(order_id=order.id, kind=TaskKind.VISIT)).state == TaskState.DONE
    kinds = set(await order.events.all().values_list("kind", flat=True))
    assert {
        "designed",
        "confirmed",
        "payment",
        "goods_in",
        "in_stock",
        "install_dispatched",
        "installed",
        "signed",
        "visited",
    } <= kinds


async def test_signing_links_forged_or_expired(world: World) -> None:
    async with aiohttp.ClientSession() as customer:
        async with customer.get(f"{world.relay_url}/sign/forged.token.value") as resp:
            assert resp.status == 403 and "链接无效" in await resp.text()
        order = await create_order_via_form(world)
        serializer = URLSafeTimedSerializer(world.config.security.secret_key, salt="customer-signature")
        import time
        from unittest import mock

        with mock.patch("time.time", return_value=time.time() - 8 * 86400):
            old = serializer.dumps({"o": order.id, "n": order.number})
        async with customer.get(f"{world.relay_url}/sign/{old}") as resp:
            assert resp.status == 403 and "链接已过期" in await resp.text()
        fresh = serializer.dumps({"o": order.id, "n": order.number})
        async with customer.post(f"{world.relay_url}/sign/{fresh}", data={"signature": signature_png()}) as resp:
            assert resp.status == 409 and "暂不能签字" in await resp.text()
    await order.refresh_from_db()
    assert order.state == OrderState.CREATED and await Signature.all().count() == 0


async def test_design_upload_checks_content(world: World) -> None:
    order = await measured_order(world)
    fake = b"MZ\x90\x00\x03" + b"\x00" * 500  # a Windows executable, renamed
    for name in ("效果图.jpg", "图纸.dwg", "方案.pdf"):
        status, html = await post_form(
            world, DESIGNER, f"/h5/orders/{order.number}/design", [("action", "upload")], [("files", fake, name)]
        )
        assert status == 400 and "不支持的文件类型" in form_errors(html)
    assert await Attachment.filter(order_id=order.id, category=AttachmentCategory.DESIGN).count() == 0
    status, html = await post_form(world, DESIGNER, f"/h5/orders/{order.number}/design", [("action", "finish")])
    assert status == 400 and form_errors(html) == "还没有上传设计文件"


async def test_cancel_and_remeasure(world: World) -> None:
    order = await designed_order(world)
    status, html = await post_form(
        world,
        DESIGNER,
        f"/h5/orders/{order.number}/changes",
        [("action", "remeasure"), ("reason", "客户改了卫生间布局")],
    )
    assert status == 200, form_errors(html)
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.CREATED
    old = await Task.get(order_id=order.id, kind=TaskKind.MEASURE)
    assert old.superseded
    again = world.card("zhaopaidan", "需要重新测量")
    assert "客户改了卫生间布局" in again.card["quote_area"]["quote_text"]
    async with world.browser_session(DESIGNER) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/gallery") as resp:
            assert "已作废的测量资料（1）" in await resp.text()
    await world.tap("zhaopaidan", again, "派给")
    new = await Task.filter(order_id=order.id, kind=TaskKind.MEASURE, superseded=False).first()
    assert new is not None and new.id != old.id
    status, html = await post_form(
        world, SALES, f"/h5/orders/{order.number}/changes", [("action", "cancel"), ("reason", "")]
    )
    assert status == 400 and form_errors(html) == "请填写取消原因"
    # The first submit asks to confirm and changes nothing; the confirmation cancels.
    changes = f"/h5/orders/{order.number}/changes"
    status, html = await post_form(world, SALES, changes, [("action", "cancel"), ("reason", "客户装修延期，暂不做了")])
    assert status == 200 and "确认取消订单" in html, form_errors(html)
    await order.refresh_from_db()
    assert order.state == OrderState.MEASURE_SCHEDULED
    status, html = await post_form(
        world, SALES, changes, [("action", "cancel"), ("confirm", "1"), ("reason", "客户装修延期，暂不做了")]
    )
    assert status == 200, form_errors(html)
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.CANCELLED and order.cancel_reason == "客户装修延期，暂不做了"
    assert (await Task.get(id=new.id)).state == TaskState.CANCELLED
    assignee = await Staff.get(id=new.assignee_id)  # type: ignore[arg-type]
    assert "客户装修延期" in world.card(assignee.userid, "订单已取消").card["quote_area"]["quote_text"]
