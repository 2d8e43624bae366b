"""Customers' personal data (PIPL): phones masked for everyone, the full number revealed on a tap only
to those who must call the customer, an audit log of views, reveals, exports and sign-ins that admins
read and export, and a customer's data exported or erased on request."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from cards.views import Period
from infra.runtime import runtime
from infra.timeutil import local_today
from models import (
    AuditAction,
    AuditEntry,
    Customer,
    InboxMessage,
    Order,
    OrderState,
    OutboxMessage,
    Signature,
    Staff,
)
from tests.support import World
from tests.test_permissions import at_state, seeded
from webviews.auth import csrf_token
from workflow.aftersales import Score, record_visit
from workflow.search import OrderFilter, search_orders
from workflow.signing import signing_token, submit_signature
from workflow.stats import stats_for

# Signatures and photos on this machine's disk and in a bucket (tests/s3_server.py).
pytestmark = pytest.mark.parametrize("storage_backend", ["disk", "bucket"])

PHONE = "13900000000"  # tests.test_permissions.new_order's customer
MASKED = "139****0000"


async def entries(action: AuditAction) -> list[AuditEntry]:
    return await AuditEntry.filter(action=action).order_by("id").prefetch_related("actor")


def no_personal_data(entry: AuditEntry) -> None:
    text = json.dumps(entry.detail, ensure_ascii=False)
    assert PHONE not in text and "客户" not in text and "上海" not in text, text


async def reveal(http: aiohttp.ClientSession, world: World, userid: str, number: str) -> tuple[int, dict[str, Any]]:
    csrf = csrf_token(await seeded(userid))
    async with http.post(f"{world.relay_url}/h5/orders/{number}/phone", data={"csrf": csrf}) as resp:
        return resp.status, await resp.json()


async def test_sign_in_is_recorded(world: World) -> None:
    async with world.browser_session("zhangxiaoshou"):
        pass
    [entry] = await entries(AuditAction.SIGN_IN)
    assert entry.actor is not None and entry.actor.userid == "zhangxiaoshou" and entry.actor_userid == "zhangxiaoshou"
    assert entry.ip == "127.0.0.1"


async def test_the_order_page_shows_the_phone_masked_and_records_the_view(world: World) -> None:
    order = await at_state("PV-MASK", OrderState.INSTALL_SCHEDULED)
    for userid in ("zhangxiaoshou", "zhaopaidan", "zhengsheji", "fengcangku", "chendianzhang", "wangzong"):
        async with world.signed_in(userid) as http:
            async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
                html = await resp.text()
                assert resp.status == 200
            assert MASKED in html and PHONE not in html, userid
            async with http.get(f"{world.relay_url}/h5/orders", params={"q": PHONE}) as resp:
                listed = await resp.text()
            listed = listed[listed.index('id="orders"') :]  # the list itself (the search box keeps what was typed)
            assert order.number in listed and MASKED in listed and PHONE not in listed
            async with http.get(f"{world.relay_url}/api/v1/orders/{order.number}") as resp:
                assert (await resp.json())["phone"] == MASKED
    views = await entries(AuditAction.ORDER_VIEW)
    assert [(e.actor.userid if e.actor else "", e.order_number) for e in views[:2]] == [
        ("zhangxiaoshou", "PV-MASK"),
        ("zhangxiaoshou", "PV-MASK"),
    ]
    assert len(views) == 12 and {e.order_id for e in views} == {order.id}
    assert views[1].detail == {"via": "API"}


async def test_only_who_must_call_the_customer_may_reveal_the_number(world: World) -> None:
    order = await at_state("PV-CALL", OrderState.INSTALLED)
    # Sales who sold it, the dispatchers, the job's measurer and installer, after-sales: they call.
    callers = ("zhangxiaoshou", "zhaopaidan", "qianpaidan", "sunceliang", "chenanzhuang", "weishouhou")
    # Designer, warehouse, managers, the admin and a measurer of the same store without the job do not.
    others = ("zhengsheji", "fengcangku", "chendianzhang", "liujingli", "wangzong", "wuceliang")
    for userid in callers:
        async with world.signed_in(userid) as http:
            async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
                assert "显示号码" in await resp.text(), userid
            assert await reveal(http, world, userid, order.number) == (200, {"phone": PHONE}), userid
    for userid in others:
        async with world.signed_in(userid) as http:
            async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
                html = await resp.text()
            assert resp.status == 200 and "显示号码" not in html and PHONE not in html, userid
            status, answer = await reveal(http, world, userid, order.number)
            assert status == 403, userid
            assert answer["error"].startswith("只有负责联系客户的人员"), answer
    async with world.signed_in("lixiaoshou") as http:  # another store's salesperson: no such order for them
        async with http.post(
            f"{world.relay_url}/h5/orders/{order.number}/phone", data={"csrf": csrf_token(await seeded("lixiaoshou"))}
        ) as resp:
            assert resp.status == 404 and PHONE not in await resp.text()
    async with world.signed_in("zhangxiaoshou") as http:  # a reveal is a POST with the page's token
        async with http.post(f"{world.relay_url}/h5/orders/{order.number}/phone", data={"csrf": "x"}) as resp:
            assert resp.status == 403 and "页面已过期" in await resp.text()
    reveals = await entries(AuditAction.PHONE_REVEAL)
    assert [e.actor.userid for e in reveals if e.actor] == list(callers)
    assert all(e.order_id == order.id and e.customer_id == order.customer_id for e in reveals)
    for e in reveals:
        no_personal_data(e)


async def test_exports_are_recorded_with_rows_and_filter(world: World) -> None:
    order = await at_state("PV-EXPORT", OrderState.MEASURE_SCHEDULED)
    async with world.signed_in("chendianzhang") as http:
        async with http.get(f"{world.relay_url}/h5/orders.csv", params={"q": PHONE, "state": "measure_scheduled"}) as r:
            assert r.status == 200 and order.number in await r.text()
        async with http.get(f"{world.relay_url}/h5/orders.csv", params={"q": "客户"}) as r:
            assert r.status == 200
        for ext in ("csv", "xlsx"):
            async with http.get(f"{world.relay_url}/h5/dashboard/export.{ext}", params={"from": "2026-11-01"}) as r:
                assert r.status == 200
    first, by_name = await entries(AuditAction.ORDER_EXPORT)
    assert first.detail == {
        "format": "csv",
        "rows": 1,
        "filter": {"q": f"手机号 {MASKED}", "state": "measure_scheduled"},
    }
    assert by_name.detail["filter"] == {"q": "姓名（不记录）"}
    for e in (first, by_name):
        no_personal_data(e)
    stats = await entries(AuditAction.STATS_EXPORT)
    assert [e.detail["format"] for e in stats] == ["csv", "xlsx"]
    assert stats[0].detail["filter"]["from"] == "2026-11-01" and stats[0].detail["rows"] >= 1


async def test_admins_read_and_export_the_audit_log(world: World) -> None:
    order = await at_state("PV-LOG", OrderState.MEASURE_SCHEDULED)
    async with world.signed_in("zhangxiaoshou") as http:
        await reveal(http, world, "zhangxiaoshou", order.number)
        async with http.get(f"{world.relay_url}/h5/admin/audit") as resp:
            assert resp.status == 403 and "只有管理员可以查看" in await resp.text()
        async with http.get(f"{world.relay_url}/h5/admin/audit.csv") as resp:
            assert resp.status == 403
    async with world.signed_in("wangzong") as http:
        async with http.get(f"{world.relay_url}/h5/admin/audit", params={"action": "phone_reveal"}) as resp:
            html = await resp.text()
        assert resp.status == 200 and "查看完整号码" in html and "PV-LOG" in html and "张晓燕" in html
        assert PHONE not in html
        async with http.get(f"{world.relay_url}/h5/admin/audit", params={"action": "nope"}) as resp:
            assert resp.status == 200 and "未知的操作类型" in await resp.text()
        async with http.get(f"{world.relay_url}/h5/admin/audit", params={"from": "2026-13-01"}) as resp:
            assert resp.status == 200 and "日期格式不正确" in await resp.text()
        async with http.get(f"{world.relay_url}/h5/admin/audit.csv", params={"order": "pv-log"}) as resp:
            assert resp.status == 200
            rows = list(csv.reader(io.StringIO((await resp.text()).lstrip("\ufeff"))))
    assert rows[0][:4] == ["时间", "人员", "企业微信账号", "操作"]
    assert [r[3] for r in rows[1:]] == ["查看完整号码"] and rows[1][4] == "PV-LOG" and rows[1][1] == "张晓燕"
    [export] = await entries(AuditAction.AUDIT_EXPORT)
    assert export.actor is not None and export.actor.userid == "wangzong"
    assert export.detail == {"format": "csv", "rows": 1, "filter": {"order": "pv-log"}}


async def _signed_and_visited(number: str) -> Order:
    order = await at_state(number, OrderState.INSTALLED)
    await submit_signature(token=signing_token(order), png=_ink(), ip="10.1.2.3", user_agent="Phone Browser")
    scores = {role: Score(4, "好") for role in ("sales", "measurer", "installer")}
    await record_visit(actor=await seeded("weishouhou"), order=order, reached=True, notes="客户说很满意", scores=scores)
    return await Order.get(id=order.id)


def _ink() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(20, 20), (280, 130), (40, 120)], fill=(0, 0, 0, 255), width=6)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


async def test_an_admin_exports_everything_held_about_a_customer(world: World) -> None:
    order = await _signed_and_visited("PV-COPY")
    signature = await Signature.get(order_id=order.id).prefetch_related("attachment")
    url = f"{world.relay_url}/h5/admin/customers/{order.customer_id}/export.zip"
    async with world.signed_in("zhangxiaoshou") as http:
        async with http.get(url) as resp:
            assert resp.status == 403
    async with world.signed_in("wangzong") as http:
        async with http.get(f"{world.relay_url}/h5/admin/customers", params={"q": PHONE}) as resp:
            html = await resp.text()
        html = html.replace(f'value="{PHONE}"', "")  # the search box keeps what was typed
        assert "PV-COPY" in html and MASKED in html and PHONE not in html
        for q in ("pv-copy", "客户"):  # by order number or by name, the same customer
            async with http.get(f"{world.relay_url}/h5/admin/customers", params={"q": q}) as resp:
                assert f'data-customer="{order.customer_id}"' in await resp.text(), q
        async with http.get(f"{world.relay_url}/h5/admin/customers", params={"q": "nobody"}) as resp:
            assert "没有找到客户" in await resp.text()
        async with http.get(url) as resp:
            assert resp.status == 200 and resp.content_type == "application/zip"
            archive = zipfile.ZipFile(io.BytesIO(await resp.read()))
        async with http.get(f"{world.relay_url}/h5/admin/customers/99999/export.zip") as resp:
            assert resp.status == 404 and "没有找到这位客户" in await resp.text()
    data = json.loads(archive.read("data.json"))
    assert data["customer"]["name"] == "客户" and data["customer"]["phone"] == PHONE
    [copy] = data["orders"]
    assert copy["number"] == "PV-COPY" and copy["address"] == "上海" and copy["state"] == "已回访"
    assert copy["items"][0]["model"] == "K5" and copy["contract_amount"] == "12800.00"
    assert copy["signature"]["ip"] == "10.1.2.3" and copy["signature"]["user_agent"] == "Phone Browser"
    assert copy["visits"][0]["notes"] == "客户说很满意"
    assert any(f["category"] == "客户签字" for f in copy["photos_and_files"])
    assert any("客户签字确认" in line for line in copy["timeline"])
    assert archive.read("signatures/PV-COPY.png") == await runtime().files.read(signature.attachment.sha256)
    [entry] = await entries(AuditAction.CUSTOMER_EXPORT)
    assert entry.actor is not None and entry.actor.userid == "wangzong" and entry.customer_id == order.customer_id
    no_personal_data(entry)


async def test_an_erased_customer_is_found_by_no_one_and_still_counted(world: World) -> None:
    order = await _signed_and_visited("PV-ERASE")
    await world.say("zhangxiaoshou", f"查找 {PHONE}")  # the phone in a chat message, the order on a card
    assert "PV-ERASE" in json.dumps([m.payload for m in await OutboxMessage.all()], ensure_ascii=False)
    manager = await seeded("wangzong")
    period = Period(local_today(), local_today() + timedelta(days=1), "今天")
    before = (await stats_for(manager, period)).total.counts
    signature = await Signature.get(order_id=order.id).prefetch_related("attachment")
    image = signature.attachment.sha256
    assert await runtime().files.exists(image)
    erase = f"{world.relay_url}/h5/admin/customers/{order.customer_id}/erase"
    async with world.signed_in("zhaopaidan") as http:
        csrf = csrf_token(await seeded("zhaopaidan"))
        async with http.post(erase, data={"csrf": csrf, "confirm": "删除"}) as resp:
            assert resp.status == 403
    async with world.signed_in("wangzong") as http:
        csrf = csrf_token(manager)
        async with http.post(erase, data={"csrf": csrf, "confirm": "好"}) as resp:
            assert resp.status == 400 and "请在确认框中输入" in await resp.text()
        assert (await Customer.get(id=order.customer_id)).erased_at is None
        async with http.post(erase, data={"csrf": csrf, "confirm": "删除"}) as resp:
            assert resp.status == 200 and "已删除客户个人信息（1 个订单已匿名保留）" in await resp.text()
        async with http.post(erase, data={"csrf": csrf, "confirm": "删除"}) as resp:
            assert resp.status == 400 and "已经删除" in await resp.text()
    # No search finds them by the old phone or name, and a new order with that phone is a new customer.
    for q in (PHONE, "客户"):
        assert await search_orders(manager, OrderFilter(q=q)) == []
    async with world.signed_in("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/api/v1/customers/phone-check", params={"phone": PHONE}) as resp:
            assert (await resp.json())["orders"] == []
        async with http.get(f"{world.relay_url}/h5/orders", params={"q": PHONE}) as resp:
            assert "PV-ERASE" not in await resp.text()
        async with http.get(f"{world.relay_url}/h5/orders/PV-ERASE") as resp:
            html = await resp.text()
    assert '<dd id="customer">已删除</dd>' in html and "<dd>已删除</dd>" in html and "显示号码" not in html
    # The order's facts stay: its state, amounts and stage dates, and so the managers' numbers.
    assert (await stats_for(manager, period)).total.counts == before
    erased = await Order.get(id=order.id)
    assert erased.state == OrderState.VISITED and erased.contract_amount == order.contract_amount
    assert erased.signed_at == order.signed_at and erased.address == "已删除"
    customer = await Customer.get(id=order.customer_id)
    assert (customer.name, customer.phone_encrypted, customer.phone_index) == ("已删除", "", "")
    assert not await Signature.filter(order_id=order.id).exists() and not await runtime().files.exists(image)
    assert await Staff.filter(userid="weishouhou").exists()
    [entry] = await entries(AuditAction.CUSTOMER_ERASE)
    assert entry.actor is not None and entry.actor.userid == "wangzong" and entry.detail["orders"] == 1
    # The chat's copies, handled and sent, keep who, when and what kind, not what mentioned the customer.
    assert entry.detail["messages"] >= 2
    kept = json.dumps(
        [m.payload for m in await InboxMessage.all()] + [m.payload for m in await OutboxMessage.all()],
        ensure_ascii=False,
    )
    assert PHONE not in kept and "PV-ERASE" not in kept
    async with world.signed_in("wangzong") as http:
        async with http.get(f"{world.relay_url}/h5/admin/customers/{order.customer_id}/export.zip") as resp:
            data = json.loads(zipfile.ZipFile(io.BytesIO(await resp.read())).read("data.json"))
    assert data["customer"]["name"] == "已删除" and data["customer"]["phone"] == "已删除"
    assert data["orders"][0]["visits"][0]["notes"] == "" and data["orders"][0]["signature"] is None
