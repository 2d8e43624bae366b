"""The customer's own order page (/c/<token>): the right stage and next step at every state, each piece's
status once released, nothing private, refusals of revoked, expired and forged links, the rate limit,
the reschedule request to the dispatchers' card and back, and who may send or take back the link."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import aiohttp
import pytest
from itsdangerous import URLSafeTimedSerializer

from infra.timeutil import local_today, utcnow
from models import (
    CustomerRequest,
    CustomerRequestState,
    EventKind,
    Order,
    OrderEvent,
    OrderPiece,
    OrderState,
    Payment,
    Product,
    Role,
    Staff,
    Task,
    TaskKind,
    Visit,
)
from relay.demo import advance
from tests.support import World, start_world
from tests.test_lifecycle_matrix import order_in
from tests.test_permissions import FAR, STORE, member, seeded
from webviews.auth import csrf_token
from workflow.customer_link import customer_page_url, order_for_customer_link
from workflow.customer_page import revoke_customer_page
from workflow.customer_requests import handle_request
from workflow.errors import Conflict, NotAllowed
from workflow.orders import ItemInput, create_order
from workflow.production import move_piece, release_if_ready
from workflow.tasks import reschedule_task
from workflow.timeline import timeline

# What the customer reads at each state: the stage marked current (or where a cancel stopped it), and
# the line under it.
EXPECTED = {
    OrderState.CREATED: ("created", "订单已提交，正在为您安排上门测量", "下一步：预约测量师傅上门测量的日期"),
    OrderState.MEASURE_SCHEDULED: ("measure_scheduled", "已为您预约上门测量", "下一步：测量师傅按预约日期上门测量"),
    OrderState.MEASURED: ("measured", "测量已完成，设计师正在为您出方案", "下一步：设计师根据测量结果出设计方案"),
    OrderState.DESIGNED: ("designed", "设计方案已完成，请与销售顾问确认", "下一步：与销售顾问确认方案并付款"),
    OrderState.CONFIRMED: ("confirmed", "方案已确认，产品生产中", "下一步：产品生产完成后送到仓库"),
    OrderState.IN_STOCK: ("in_stock", "产品已全部到货，正在为您安排安装", "下一步：预约安装师傅上门安装的日期"),
    OrderState.INSTALL_SCHEDULED: ("install_scheduled", "已为您预约上门安装", "下一步：安装师傅按预约日期上门安装"),
    OrderState.INSTALLED: (
        "installed",
        "安装已完成，请查看安装照片并签字确认",
        "下一步：查看安装照片，在手机上签字确认",
    ),
    OrderState.SIGNED: ("signed", "您已签字确认，客服会尽快回访", "下一步：客服回访，听取您的评价"),
    OrderState.VISITED: ("visited", "订单已完成，感谢您的评价", "全部完成"),
    OrderState.CANCELLED: ("confirmed", "订单已取消", "订单已取消，如有疑问请联系您的销售顾问"),
}
PHONE = "13900000000"  # tests.test_permissions.new_order's customer


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def stages(html: str) -> dict[str, str]:
    return dict((s, c) for c, s in re.findall(r'<li class="(\w+)" data-stage="(\w+)"', html))


async def staff_userids() -> list[str]:
    return [str(u) for u in await Staff.all().values_list("userid", flat=True)]


async def assert_nothing_private(html: str) -> None:
    """No member's userid, no full phone (the customer's own is masked), no other customer, no money."""
    for userid in await staff_userids():
        assert not re.search(rf"\b{re.escape(userid)}\b", html), userid
    assert not re.search(r"1[3-9]\d{9}", html), "a full phone number on the customer's page"
    assert "139****0000" in html
    assert "邓先生" not in html and "13633334444" not in html
    assert "¥" not in html and "元" not in html and "12800" not in html
    assert "内部备注" not in html and "内部回访记录" not in html


async def other_customer() -> Order:
    k5 = await Product.get(model="K5")
    return await create_order(
        actor=await seeded("zhangxiaoshou"),
        number="OTHER-1",
        customer_name="邓先生",
        phone="13633334444",
        address="上海市徐汇区田林路 200 号",
        items=[ItemInput(product_id=k5.id, room="阳台")],
        expected_measure_date=local_today(),
    )


async def test_the_page_shows_the_stage_and_next_step_at_every_state(world: World) -> None:
    await other_customer()
    async with aiohttp.ClientSession() as http:
        for state in OrderState:
            order = await order_in(state, f"CP-{state.value.upper().replace('_', '')}"[:32])
            # Staff's own notes on the order and the visit stay staff's.
            await Order.filter(id=order.id).update(note="内部备注：只给员工看")
            await Visit.filter(order_id=order.id).update(notes="内部回访记录")
            async with http.get(customer_page_url(order)) as resp:
                assert resp.status == 200, state
                html = await resp.text()
            stage, now, following = EXPECTED[state]
            marks = stages(html)
            assert list(marks) == [s.value for s in OrderState if s != OrderState.CANCELLED]
            wanted_mark = "cancelled" if state == OrderState.CANCELLED else "current"
            assert marks[stage] == wanted_mark, (state, marks)
            order_states = list(marks)
            assert all(marks[s] == "done" for s in order_states[: order_states.index(stage)]), (state, marks)
            assert all(marks[s] == "todo" for s in order_states[order_states.index(stage) + 1 :]), (state, marks)
            assert text_of(html, "now") == now, state
            assert text_of(html, "next").startswith(following), (state, text_of(html, "next"))
            assert order.number in html and "上海" in html and "K系列 K5" in html
            await assert_nothing_private(html)
            # The signature step: a button to the signing page once installed, done after signing.
            assert ('id="go-sign"' in html) == (state == OrderState.INSTALLED), state
            assert ('id="signed"' in html) == (state in (OrderState.SIGNED, OrderState.VISITED)), state
            assert ("安装照片" in html) == (state in (OrderState.INSTALLED, OrderState.SIGNED, OrderState.VISITED)), (
                state
            )
            if state == OrderState.VISITED:
                assert "回访评价" in html and "4 分" in html
            # The booked visit, and asking to move it, only while one is booked and not done.
            booked = state in (OrderState.MEASURE_SCHEDULED, OrderState.INSTALL_SCHEDULED)
            assert ('id="reschedule-form"' in html) == booked, state
            # 报修 / 反馈问题 (the ticket form under the page) once there is an installation to report on.
            after_install = state in (OrderState.INSTALLED, OrderState.SIGNED, OrderState.VISITED)
            assert ('id="report-problem"' in html and "/problem" in html) == after_install, state


async def test_a_released_order_shows_each_piece(world: World) -> None:
    products = {p.model: p for p in await Product.all()}
    order = await create_order(
        actor=await seeded("zhangxiaoshou"),
        number="CP-PIECES",
        customer_name="曹女士",
        phone="13544445555",
        address="上海市徐汇区钦州北路 99 弄",
        items=[
            ItemInput(product_id=products["K5"].id, room="主卫"),
            ItemInput(product_id=products["D70"].id, room="客厅", quantity=2),
        ],
        expected_measure_date=local_today(),
    )
    order = await advance(order, OrderState.CONFIRMED, day=local_today() + timedelta(days=1))
    await Payment.filter(order_id=order.id).update(confirmed_at=utcnow())
    assert await release_if_ready(order)
    pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")
    factory = await seeded("zhouchangzhang")
    await move_piece(actor=factory, piece=pieces[1])
    for _ in range(3):
        await move_piece(actor=factory, piece=pieces[2])
    async with aiohttp.ClientSession() as http, http.get(customer_page_url(order)) as resp:
        html = await resp.text()
    rows = re.findall(r'data-piece-state="(\w+)"><span>([^<]+)</span><span class="tag">([^<]+)<', html)
    assert [(state, label) for state, _, label in rows] == [
        ("queued", "待生产"),
        ("in_production", "生产中"),
        ("shipped", "已发货"),
    ]
    assert [name for _, name, _ in rows] == [
        "主卫：淋浴房 K系列 K5",
        "客厅：门窗 断桥铝 D70 第 1/2 件",
        "客厅：门窗 断桥铝 D70 第 2/2 件",
    ]
    expected = max(p.expected_date for p in pieces if p.expected_date)
    assert f"预计 {expected.isoformat()} 前完工" in html
    assert stages(html)["confirmed"] == "current"


async def test_revoked_expired_and_forged_links_are_refused(world: World) -> None:
    order = await order_in(OrderState.INSTALLED, "CP-REFUSE")
    old = customer_page_url(order)
    serializer = URLSafeTimedSerializer(world.config.security.secret_key, salt="customer-page")
    days = world.config.security.customer_link_days
    with mock.patch("time.time", return_value=time.time() - (days + 1) * 86400):
        expired = serializer.dumps({"o": order.id, "n": order.number, "v": order.customer_link_version})
    forged = URLSafeTimedSerializer("not-relays-key", salt="customer-page").dumps({"o": order.id, "n": order.number})
    signing = URLSafeTimedSerializer(world.config.security.secret_key, salt="customer-signature").dumps(
        {"o": order.id, "n": order.number}
    )
    base = world.relay_url.rstrip("/")
    async with aiohttp.ClientSession() as http:
        async with http.get(old) as resp:
            assert resp.status == 200
            photo = re.search(r'/c/[^/"]+/files/(\d+)', await resp.text())
            assert photo is not None
        await revoke_customer_page(actor=await seeded("zhangxiaoshou"), order=order)
        fresh = customer_page_url(order)
        assert fresh != old
        cases = [
            (old, "链接已失效", "已被收回"),
            (f"{base}/c/{expired}", "链接已过期", "重新发送"),
            (f"{base}/c/{forged}", "链接无效", "索取正确的链接"),
            (f"{base}/c/{signing}", "链接无效", "索取正确的链接"),  # a signing link is not this page's
            (f"{base}/c/not.a.token", "链接无效", "索取正确的链接"),
            (f"{old}/files/{photo.group(1)}", "链接已失效", "已被收回"),
        ]
        for url, title, words in cases:
            async with http.get(url) as resp:
                html = await resp.text()
                assert resp.status == 403, url
                assert f"<h1>{title}</h1>" in html and words in html, url
                assert order.number not in html and "安装照片" not in html
                assert resp.headers["Referrer-Policy"] == "no-referrer"
                assert "frame-ancestors" in resp.headers["Content-Security-Policy"]
        async with http.post(
            f"{old}/reschedule", data={"kind": "install", "wanted_date": local_today().isoformat()}
        ) as resp:
            assert resp.status == 403
        async with http.get(fresh) as resp:
            assert resp.status == 200 and order.number in await resp.text()
    events = await timeline(order)
    assert any("张晓燕 收回客户查看链接" in line for line in events), events


@pytest.fixture
async def limited_world(database: str, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with start_world(
        database_url=database, redis_url=redis_url, storage=tmp_path / "files", security={"sign_per_minute": 3}
    ) as w:
        yield w


async def test_the_page_from_one_address_is_bounded(limited_world: World) -> None:
    order = await order_in(OrderState.MEASURE_SCHEDULED, "CP-LIMIT")
    url = customer_page_url(order)
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(4):
            async with http.get(url) as resp:
                statuses.append(resp.status)
        async with http.post(f"{url}/reschedule", data={"kind": "measure", "wanted_date": "2099-01-01"}) as resp:
            statuses.append(resp.status)
            assert "操作太频繁" in await resp.text() and resp.headers["Retry-After"] == "60"
    assert statuses == [200] * 3 + [429] * 2
    assert not await CustomerRequest.exists()


async def test_a_reschedule_request_reaches_the_dispatchers_and_is_handled(world: World) -> None:
    order = await order_in(OrderState.MEASURE_SCHEDULED, "CP-MOVE")
    task = await Task.get(order_id=order.id, kind=TaskKind.MEASURE)
    url = customer_page_url(order)
    wanted = local_today() + timedelta(days=5)
    async with aiohttp.ClientSession() as http:
        # Bad wishes change nothing and say why.
        for wish, words in (
            ({"kind": "visit", "wanted_date": wanted.isoformat()}, "请选择要改期的预约"),
            ({"kind": "", "wanted_date": wanted.isoformat()}, "请选择要改期的预约"),
            ({"wanted_date": (local_today() - timedelta(days=1)).isoformat()}, "不能早于今天"),
            ({"wanted_date": task.scheduled_date.isoformat()}, "与原定日期相同"),
            ({"wanted_date": "2026-13-40"}, "日期格式不正确"),
            ({"wanted_date": ""}, "请选择希望的日期"),
            ({"wanted_date": wanted.isoformat(), "wanted_part": "midnight"}, "请选择上午、下午或全天均可"),
            ({"wanted_date": wanted.isoformat(), "note": "长" * 201}, "不超过 200 字"),
        ):
            data = {"kind": "measure", **wish}
            async with http.post(f"{url}/reschedule", data=data) as resp:
                assert resp.status == 400, data
                assert words in text_of(await resp.text(), "form-error"), data
        assert not await CustomerRequest.exists()
        data = {
            "kind": "measure",
            "wanted_date": wanted.isoformat(),
            "wanted_part": "afternoon",
            "note": "周末家里有人",
        }
        async with http.post(f"{url}/reschedule", data=data, allow_redirects=False) as resp:
            assert resp.status == 302
        async with http.get(url) as resp:
            html = await resp.text()
            assert f"已提交改期申请（希望 {wanted.isoformat()} 下午），等待确认" in html
            assert 'id="reschedule-form"' not in html
        async with http.post(f"{url}/reschedule", data=data) as resp:
            assert resp.status == 409 and "已提交过改期申请" in await resp.text()
    await world.settle()
    request = await CustomerRequest.get(order_id=order.id)
    # Both measure dispatchers over the order get the card; the one tapping 已处理 settles it.
    for userid in ("zhaopaidan", "qianpaidan"):
        card = world.card(userid, "客户申请测量改期")
        assert "CP-MOVE" in card.desc
        assert f"{wanted.isoformat()} 下午" in str(card.card) and "周末家里有人" in str(card.card)
    assert not [c for c in world.emu.cards("sunceliang") if c.title == "客户申请测量改期"]
    await world.tap("qianpaidan", world.card("qianpaidan", "客户申请测量改期"), "已处理")
    await request.refresh_from_db()
    assert request.state == CustomerRequestState.HANDLED
    assert request.handled_by_id == (await seeded("qianpaidan")).id
    assert world.card("qianpaidan", "客户申请测量改期").replace_text == "已由钱芳处理"
    assert world.card("zhaopaidan", "客户申请测量改期").replace_text == "已由钱芳处理"
    with pytest.raises(Conflict, match="已由钱芳处理"):
        await handle_request(actor=await seeded("zhaopaidan"), request_id=request.id)
    # Only who may reschedule the job over the order settles it.
    for userid in ("chenanzhuang", "zhangxiaoshou"):
        with pytest.raises(NotAllowed):
            await handle_request(actor=await seeded(userid), request_id=request.id)
    lines = await timeline(order)
    assert any(
        f"客户申请测量改期：原定 {task.scheduled_date.isoformat()}，希望 {wanted.isoformat()} 下午" in x for x in lines
    )
    assert any("钱芳 处理客户的测量改期申请" in x for x in lines)
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        html = await resp.text()
        assert "改期申请已处理，预约日期不变" in html
        assert 'id="reschedule-form"' in html  # they may ask again

    # Asked again, and this time the dispatcher reschedules the job: that settles it.
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/reschedule", data=data, allow_redirects=False) as resp:
            assert resp.status == 302
    await reschedule_task(actor=await seeded("zhaopaidan"), task_id=task.id, day=wanted, reason="客户要求")
    await world.settle()
    assert not await CustomerRequest.filter(state=CustomerRequestState.OPEN).exists()
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert f"改期申请已处理，新的时间：{wanted.isoformat()}" in await resp.text()
    assert await OrderEvent.filter(order_id=order.id, kind=EventKind.RESCHEDULE_REQUEST_HANDLED).count() == 2


async def test_no_request_without_a_booked_visit(world: World) -> None:
    order = await order_in(OrderState.DESIGNED, "CP-NOVISIT")
    wanted = (local_today() + timedelta(days=3)).isoformat()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{customer_page_url(order)}/reschedule", data={"kind": "measure", "wanted_date": wanted}) as resp,
    ):
        assert resp.status == 409 and "目前没有可以改期的预约" in await resp.text()
    # Nor for the other kind of visit than the one booked.
    order = await order_in(OrderState.MEASURE_SCHEDULED, "CP-OTHERKIND")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{customer_page_url(order)}/reschedule", data={"kind": "install", "wanted_date": wanted}) as resp,
    ):
        assert resp.status == 409 and "目前没有可以改期的预约" in await resp.text()
    assert not await CustomerRequest.exists()


async def test_only_sales_after_sales_and_managers_send_or_take_back_the_link(world: World) -> None:
    order = await order_in(OrderState.INSTALLED, "CP-WHO")
    allowed = {"zhangxiaoshou": "张晓燕", "weishouhou": "卫客服", "chendianzhang": "陈店长"}
    refused = ["lixiaoshou", "zhaopaidan", "chenanzhuang", "sunceliang", "zhengsheji", "fengcangku", "qiankuaiji"]
    far_manager = await member("far-manager", Role.MANAGER, FAR)
    await member("near-finance", Role.FINANCE, STORE)
    page = f"{world.relay_url}/h5/orders/{order.number}/customer-page"
    for userid in allowed:
        async with world.signed_in(userid) as http:
            async with http.get(page) as resp:
                html = await resp.text()
                assert resp.status == 200
                # The link is signed with the second it was made in: compare what it opens, not its text.
                [link] = set(re.findall(r"/c/([\w.-]+)", html))
                assert (await order_for_customer_link(link)).id == order.id, userid
                assert 'id="customer-qr"' in html and 'id="revoke"' in html, userid
            async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
                assert "客户查看链接" in await resp.text(), userid
            async with http.get(f"{page.removesuffix('customer-page')}customer-page-qr.png") as resp:
                assert resp.status == 200 and resp.content_type == "image/png"
    version = order.customer_link_version
    for userid in refused:
        async with world.signed_in(userid) as http:
            async with http.get(page) as resp:
                html = await resp.text()
                if resp.status == 404:
                    continue  # not theirs to open at all
                assert "/c/" not in html and 'id="revoke"' not in html, userid
            async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
                assert "客户查看链接" not in await resp.text(), userid
            async with http.get(f"{page.removesuffix('customer-page')}customer-page-qr.png") as resp:
                assert resp.status == 404, userid
            token = csrf_token(await seeded(userid))
            async with http.post(page, data={"csrf": token, "action": "revoke", "confirm": "1"}) as resp:
                assert resp.status == 403, userid
                assert text_of(await resp.text(), "form-error"), userid
    async with world.signed_in(far_manager.userid) as http, http.get(page) as resp:
        assert resp.status == 404
    await order.refresh_from_db()
    assert order.customer_link_version == version
    assert not await OrderEvent.filter(order_id=order.id, kind=EventKind.CUSTOMER_LINK_REVOKED).exists()
