"""Showroom bookings (预约, seed 002): assigned by the seed's rules in order (free, fewest today, conversion;
round-robin at first; queued when all are busy, assigned when one frees), fair when two arrive at once,
moved by the consultant's card and the H5 pages, won into an order, booked by API and CSV, and refused
where the table says."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import aiohttp

from infra.timeutil import local_moment, local_today, utcnow
from models import (
    AuditAction,
    AuditEntry,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadSource,
    LeadState,
    Order,
    OrgUnit,
    Product,
    Role,
    Staff,
)
from tests.support import World, form_errors
from tests.test_measure_slice import csrf
from tests.test_permissions import member
from workflow.admin import ensure_unit
from workflow.errors import NotAllowed, NotFound
from workflow.leads import LeadInput, booking_sms_params, conversion, create_lead, import_leads, lead_for, take
from workflow.tokens import create_token

STORE = "朗斯家居/华东区/上海徐汇店"  # the demo's: 顾文 (guwen) and 林悦 (linyue), 方前台 (fangqiantai)
SOUTH = "朗斯家居/华南区/广州天河店"
RECEPTION = "fangqiantai"


async def book(store: OrgUnit, name: str = "客户", phone: str = "13900000000", *, by: Staff | None = None) -> Lead:
    actor = by or await Staff.get(userid=RECEPTION)
    return await create_lead(actor=actor, store=store, data=LeadInput(name=name, phone=phone), source=LeadSource.STAFF)


async def holder(lead: Lead) -> str:
    await lead.refresh_from_db()
    if lead.consultant_id is None:
        return ""
    return (await Staff.get(id=lead.consultant_id)).userid


async def test_the_seeds_rules_in_order(world: World) -> None:
    """Busy: a consultant with a customer (claimed, arrived) or one waiting for their 领单 (assigned)."""
    store = await ensure_unit(SOUTH)
    front = await member("nan_front", Role.RECEPTION, SOUTH)
    a, b, c = [await member(u, Role.CONSULTANT, SOUTH) for u in ("nan_a", "nan_b", "nan_c")]

    async def booked(i: int) -> Lead:
        return await book(store, f"客户{i}", f"139000000{i:02d}", by=front)

    # Without history: in turn (round-robin). Each one then waits for their 领单: busy.
    l1, l2, l3 = [await booked(i) for i in (1, 2, 3)]
    assert [await holder(x) for x in (l1, l2, l3)] == ["nan_a", "nan_b", "nan_c"]
    # Nobody free: the booking waits in the store's queue ...
    l4 = await booked(4)
    assert (l4.state, l4.consultant_id) == (LeadState.NEW, None)
    # ... and goes to the first one free again: b pauses her customer (unclaimed, still hers; b is free).
    await take(b, l2, "claim")
    await take(b, l2, "pause")
    assert (await holder(l4), (await Lead.get(id=l4.id)).state) == ("nan_b", LeadState.ASSIGNED)
    assert (await Lead.get(id=l2.id)).state == LeadState.PAUSED
    # 1. Free first: b pauses again; she has received 2 today, a and c 1, but they are busy.
    await take(b, l4, "claim")
    await take(b, l4, "pause")
    l5 = await booked(5)
    assert await holder(l5) == "nan_b"
    # 2. Fewest today: a finishes (未到店), c's booking is cancelled, and reception gives b's l5 to a (改派:
    # received today, not an automatic assignment), who pauses it. Free: a (2 today, last assigned l1, the
    # oldest), b (2, l5), c (1, l3). Round-robin alone would pick a; the fewest received today is c.
    await take(a, l1, "claim")
    await take(a, l1, "no_show")
    await take(c, l3, "void", reason="重复预约")
    await take(front, l5, "reassign", to=a)
    await take(a, l5, "claim")
    await take(a, l5, "pause")
    l6 = await booked(6)
    assert await holder(l6) == "nan_c"
    # 3. Between equals, in turn: c pauses too; each has 2 today; a's last assignment is the oldest.
    await take(c, l6, "claim")
    await take(c, l6, "pause")
    l7 = await booked(7)
    assert await holder(l7) == "nan_a"


async def test_conversion_once_there_is_history(world: World) -> None:
    store = await ensure_unit("朗斯家居/华南区/深圳南山店")
    front = await member("sz_front", Role.RECEPTION, "朗斯家居/华南区/深圳南山店")
    low, high = [await member(u, Role.CONSULTANT, "朗斯家居/华南区/深圳南山店") for u in ("sz_low", "sz_high")]
    yesterday = utcnow() - timedelta(days=1)

    async def history(staff: Staff, won: int, lost: int) -> None:
        for i in range(won + lost):
            await Lead.create(
                number=f"H{staff.id}-{i}-{won}-{lost}",
                name="旧客户",
                phone_encrypted="x",
                phone_index="x",
                store=store,
                state=LeadState.WON if i < won else LeadState.NOT_WON,
                consultant=staff,
                assigned_at=yesterday,
                decided_at=yesterday,
            )

    # 9 decided for low: not enough history (leads.min_history = 10): round-robin, low first by id.
    await history(low, 2, 7)
    await history(high, 8, 2)
    first = await book(store, by=front)
    assert await holder(first) == "sz_low"
    await take(low, first, "void", reason="测试")
    await Lead.filter(id=first.id).update(assigned_at=yesterday)  # not counted today
    # With 10 decided each, the higher conversion rate goes first.
    await history(low, 0, 1)
    second = await book(store, "客户二", "13900000002", by=front)
    assert await holder(second) == "sz_high"
    unit = await OrgUnit.get(id=store.id)
    stores, people = await conversion(
        unit, (utcnow() - timedelta(days=2)).date(), (utcnow() + timedelta(days=1)).date()
    )
    rates = {p.name: (p.won, p.decided, p.rate_text) for p in people}
    assert rates["sz_high"] == (8, 10, "80%") and rates["sz_low"] == (2, 10, "20%")
    assert (stores[0].won, stores[0].decided, stores[0].rate_text) == (10, 20, "50%")


async def test_two_leads_at_once_go_to_two_free_consultants(world: World) -> None:
    """Each booking runs in its own transaction on its own connection; the store's row lock makes the
    second see the first's assignment (PostgreSQL), as SQLite's one writer does."""
    path = "朗斯家居/华南区/佛山店"
    store = await ensure_unit(path)
    front = await member("fs_front", Role.RECEPTION, path)
    x, y = [await member(u, Role.CONSULTANT, path) for u in ("fs_x", "fs_y")]
    for round_ in range(6):
        pair = await asyncio.gather(
            *(book(store, f"同时{round_}{i}", f"1380000{round_:02d}{i:02d}", by=front) for i in range(2))
        )
        holders = {await holder(p) for p in pair}
        assert holders == {"fs_x", "fs_y"}, (round_, holders)
        for lead in pair:  # both free and even again for the next round
            await Lead.filter(id=lead.id).update(state=LeadState.VOID, assigned_at=utcnow() - timedelta(days=1))
    assert x.id != y.id


async def test_the_consultants_card_and_the_lead_page(world: World) -> None:
    store = await ensure_unit(STORE)
    lead = await book(store, "周女士", "13712345678")
    await world.settle()
    card = world.card("guwen", "新预约待领单")
    assert card.desc == "周女士 · 上海徐汇店" and card.fields["电话"] == "137****5678"
    assert card.button_texts == ["领单", "到店", "未到店", "拒绝（退回）", "转给同事", "作废"]
    refuse = next(b for b in card.buttons if b.text == "拒绝（退回）")
    assert refuse.type == 1 and f"/h5/leads/{lead.number}" in refuse.url  # the reason is typed on the page
    await world.tap("guwen", card, "领单")
    assert world.card("guwen", "新预约待领单").replace_text == "已领单（服务中）"
    serving = world.card("guwen", "正在服务")
    assert serving.button_texts == ["到店", "已成交", "需要回访", "未到店", "暂停服务", "更多操作"]
    await world.tap("guwen", serving, "暂停服务")
    assert (await Lead.get(id=lead.id)).state == LeadState.PAUSED
    paused = world.card("guwen", "预约已暂停，待再次领单")
    await world.tap("guwen", paused, "领单")
    await world.tap("guwen", world.card("guwen", "正在服务"), "到店")
    assert (await Lead.get(id=lead.id)).state == LeadState.ARRIVED
    # The customer is in the store: the next card offers the outcomes, one tap each.
    arrived = world.card("guwen", "客户已到店")
    assert {"已成交", "需要回访"} <= set(arrived.button_texts) and "到店" not in arrived.button_texts

    async with world.browser_session("guwen") as http:
        async with http.get(f"{world.relay_url}/h5/leads/{lead.number}") as resp:
            page = await resp.text()
            assert resp.status == 200 and "13712345678" in page  # the consultant holding it calls the customer
        seen = await AuditEntry.filter(action=AuditAction.LEAD_VIEW).order_by("-id").first()
        assert seen is not None and seen.detail == {"lead": lead.number, "phone": "full"}
        # 到店未成交 needs a reason: refused, nothing changed.
        async with http.post(
            f"{world.relay_url}/h5/leads/{lead.number}/step", data={"csrf": csrf(page), "step": "not_won"}
        ) as resp:
            assert resp.status == 400 and form_errors(await resp.text()) == "请填写原因"
        assert (await Lead.get(id=lead.id)).state == LeadState.ARRIVED
        # 转给 林悦: she gets the card, 顾文's is closed.
        async with http.post(
            f"{world.relay_url}/h5/leads/{lead.number}/step",
            data={"csrf": csrf(page), "step": "transfer", "consultant": str((await Staff.get(userid="linyue")).id)},
        ) as resp:
            assert resp.status == 200
    await world.settle()
    assert await holder(lead) == "linyue" and (await Lead.get(id=lead.id)).state == LeadState.ASSIGNED
    assert world.card("linyue", "同事转给你的预约").desc == "周女士 · 上海徐汇店"

    # Reception overrides (改派) from the list's drop-down, back to 顾文.
    async with world.browser_session(RECEPTION) as http:
        async with http.get(f"{world.relay_url}/h5/leads") as resp:
            page = await resp.text()
            assert "137****5678" in page or "13712345678" in page
        async with http.post(
            f"{world.relay_url}/h5/leads/{lead.number}/step",
            data={
                "csrf": csrf(page),
                "step": "reassign",
                "back": "list",
                "consultant": str((await Staff.get(userid="guwen")).id),
            },
        ) as resp:
            assert resp.status == 200 and f"预约 {lead.number} 已更新" in await resp.text()
    await world.settle()
    assert await holder(lead) == "guwen"
    assert "已由方前台改派给顾文" in world.last_text("linyue")
    # 拒绝（退回） with its reason: back to the queue and on to the other consultant (林悦).
    async with world.browser_session("guwen") as http:
        async with http.get(f"{world.relay_url}/h5/leads/{lead.number}") as resp:
            page = await resp.text()
        async with http.post(
            f"{world.relay_url}/h5/leads/{lead.number}/step",
            data={"csrf": csrf(page), "step": "reject", "reason": "今天客户太多"},
        ) as resp:
            assert resp.status == 200
    assert await holder(lead) == "linyue"
    kinds = [e.kind for e in await LeadEvent.filter(lead_id=lead.id).order_by("id")]
    assert kinds[-2:] == [LeadEventKind.REJECTED, LeadEventKind.ASSIGNED]
    assert (await Lead.get(id=lead.id)).rejections == 1


async def test_won_opens_the_order_form_filled_from_the_lead(world: World) -> None:
    store = await ensure_unit(STORE)
    k5 = await Product.get(model="K5")
    data = LeadInput(name="吴先生", phone="13755556666", product_ids=(k5.id,))
    lead = await create_lead(actor=await Staff.get(userid=RECEPTION), store=store, data=data, source=LeadSource.STAFF)
    guwen = await Staff.get(userid="guwen")
    await take(guwen, lead, "claim")
    await take(guwen, lead, "arrive")
    await world.settle()
    win = next(b for b in world.card("guwen", "客户已到店").buttons if b.text == "已成交")
    assert win.type == 1 and f"/h5/orders/new?lead={lead.number}" in win.url.replace("%2F", "/")
    async with world.browser_session("guwen") as http:
        async with http.get(f"{world.relay_url}/h5/orders/new", params={"lead": lead.number}) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'value="吴先生"' in page and 'value="13755556666"' in page
            assert f'name="lead" value="{lead.number}"' in page
        form = {
            "csrf": csrf(page),
            "lead": lead.number,
            "number": "LS20261299001",
            "customer_name": "吴先生",
            "phone": "13755556666",
            "address": "上海市徐汇区某路 1 号",
            "product_id": str(k5.id),
            "room": "主卫",
            "quantity": "1",
        }
        async with http.post(f"{world.relay_url}/h5/orders/new", data=form) as resp:
            assert resp.status == 200, form_errors(await resp.text())
    order = await Order.get(number="LS20261299001")
    lead = await Lead.get(id=lead.id)
    assert (lead.state, lead.order_id, order.sales_id) == (LeadState.WON, order.id, guwen.id)


async def test_refusals(world: World) -> None:
    store = await ensure_unit(STORE)
    lead = await book(store)
    stranger = await member("far_consultant", Role.CONSULTANT, SOUTH)
    measurer = await Staff.get(userid="sunceliang")
    linyue = await Staff.get(userid="linyue")
    # A consultant of another store does not find it; a role without the right is refused.
    try:
        await lead_for(stranger, lead.number)
        raise AssertionError("found")
    except NotFound as refused:
        assert refused.message == f"没有找到预约 {lead.number}"
    for actor, step, text in (
        (measurer, "claim", "只有销售顾问可以这样操作"),
        (linyue, "claim", f"预约 {lead.number} 不是分配给你的预约"),
        (measurer, "reassign", "只有前台或管理层可以这样操作"),
    ):
        try:
            await take(actor, lead, step, to=linyue)
            raise AssertionError(step)
        except NotAllowed as refused:
            assert refused.message == text
    try:
        await book(store, by=stranger)
        raise AssertionError("booked")
    except NotAllowed as refused:
        assert refused.message == "上海徐汇店 不在你负责的范围内"
    async with world.browser_session("sunceliang") as http:
        async with http.get(f"{world.relay_url}/h5/leads/{lead.number}") as resp:
            assert resp.status == 404 and "没有找到预约" in await resp.text()


async def test_the_api_books_with_a_token(world: World) -> None:
    store = await ensure_unit(STORE)
    writer = await create_token(actor=None, name="官网", scopes=["leads:write"])
    reader = await create_token(actor=None, name="看板", scopes=["leads:read"])
    url = f"{world.relay_url}/api/v1/leads"
    async with aiohttp.ClientSession() as http:
        body = {"store_id": store.id, "name": "网上客户", "phone": "13811112222", "products": "淋浴房"}
        async with http.post(url, json=body, headers={"Authorization": f"Bearer {reader.secret}"}) as resp:
            assert resp.status == 403
        async with http.post(
            url, json={**body, "phone": "1381111"}, headers={"Authorization": f"Bearer {writer.secret}"}
        ) as resp:
            assert resp.status == 400 and (await resp.json())["message"] == "手机号应为 11 位数字，以 1 开头"
        async with http.post(url, json=body, headers={"Authorization": f"Bearer {writer.secret}"}) as resp:
            assert resp.status == 201, await resp.text()
            made = await resp.json()
        assert made["phone"] == "138****2222" and made["consultant"] == "顾文" and made["state"] == "assigned"
        async with http.get(url, headers={"Authorization": f"Bearer {reader.secret}"}) as resp:
            assert [x["number"] for x in (await resp.json())["items"]] == [made["number"]]
        async with http.get(f"{world.relay_url}/api/v1/openapi.json") as resp:
            assert "/api/v1/leads" in (await resp.json())["paths"]
    assert (await Lead.get(number=made["number"])).source == LeadSource.API


async def test_csv_import_reports_bad_rows_by_line(world: World) -> None:
    text = (
        "store,name,phone,need_level,products,wanted_at\n"
        f"{STORE},甲,13800000001,高,淋浴房,2026-12-20 14:00\n"
        f"{STORE},,13800000002,,,\n"
        f"{STORE},丙,1380000,,,\n"
        "朗斯家居/华东区/不存在店,丁,13800000004,,,\n"
        f"{STORE},戊,13800000005,,,明天\n"
    )
    result = await import_leads(text, actor=None)
    assert len(result.created) == 1
    assert result.errors == [
        "第 3 行：请填写姓名",
        "第 4 行：手机号应为 11 位数字，以 1 开头",
        "第 5 行：没有门店 朗斯家居/华东区/不存在店",
        "第 6 行：预约时间格式不正确：明天（例如 2026-12-05 14:00）",
    ]
    assert (await Lead.get(number=result.created[0])).source == LeadSource.CSV


async def test_conversion_in_the_managers_numbers(world: World) -> None:
    store = await ensure_unit(STORE)
    guwen, linyue = await Staff.get(userid="guwen"), await Staff.get(userid="linyue")
    one, two, three = [await book(store, f"客户{i}", f"1390000001{i}") for i in range(3)]
    assert [await holder(x) for x in (one, two, three)] == ["guwen", "linyue", ""]  # the third waits
    for actor, lead in ((guwen, one), (linyue, two)):
        await take(actor, lead, "claim")
        await take(actor, lead, "arrive")
    await take(linyue, two, "not_won", reason="价格高")
    assert await holder(three) == "linyue"  # free again: the queued one is hers
    await Lead.filter(id=one.id).update(state=LeadState.WON, decided_at=utcnow())  # as an order makes it
    await world.say("chendianzhang", "本月统计")
    sent = [m for m in world.emu.bot_messages("chendianzhang") if m.msgtype == "markdown"]
    content = sent[-1].payload["markdown"]["content"]
    assert "预约转化（成单率 = 成交 / 已有结果）" in content
    assert "上海徐汇店：预约 3 · 成交 1/2 · 成单率 50%" in content
    assert "顾文：预约 1 · 成交 1/1 · 成单率 100%" in content and "林悦：预约 2 · 成交 0/1 · 成单率 0%" in content
    async with world.browser_session("chendianzhang") as http:
        async with http.get(f"{world.relay_url}/h5/dashboard") as resp:
            page = await resp.text()
    assert 'data-consultant="顾文"' in page and "100%" in page
    assert three.id


async def test_reception_uploads_a_csv_on_the_leads_page(world: World) -> None:
    text = f"store,name,phone\n{STORE},甲,13800000001\n{STORE},乙,12345\n{SOUTH},丙,13800000003\n"
    async with world.browser_session(RECEPTION) as http:
        async with http.get(f"{world.relay_url}/h5/leads") as resp:
            page = await resp.text()
            assert "/h5/book/" in page  # the store's public page, to share
        form = aiohttp.FormData()
        form.add_field("csrf", csrf(page))
        form.add_field("file", text.encode(), filename="leads.csv", content_type="text/csv")
        async with http.post(f"{world.relay_url}/h5/leads/import", data=form) as resp:
            page = await resp.text()
    assert resp.status == 200 and "新增预约 1 个，2 行未导入" in page
    assert "第 3 行：手机号应为 11 位数字，以 1 开头" in page
    assert "第 4 行：没有门店 朗斯家居/华南区/广州天河店" in page or "第 4 行：广州天河店 不在你负责的范围内" in page
    assert await Lead.filter(source=LeadSource.CSV).count() == 1


async def test_help_and_the_leads_card_in_chat(world: World) -> None:
    await world.say(RECEPTION, "帮助")
    jumps = [j["title"] for j in world.card(RECEPTION, "接力 · 可以这样和我说").card["jump_list"]]
    assert jumps[:2] == ["我的待办", "预约"]
    await world.say("guwen", "预约")
    assert world.card("guwen", "预约").card["card_action"]["url"].split("?")[0].endswith("/h5/leads")


async def test_the_booking_sms_says_the_number_and_the_stores_address(world: World) -> None:
    """What the SMS (template "booking") will carry once the SMS queue is merged in."""
    store = await ensure_unit(STORE)
    await OrgUnit.filter(id=store.id).update(address="上海市徐汇区漕溪北路 88 号")
    store = await OrgUnit.get(id=store.id)
    when = local_moment(local_today() + timedelta(days=1), time(14, 30))
    data = LeadInput(name="钱女士", phone="13912345678", wanted_at=when)
    lead = await create_lead(actor=await Staff.get(userid=RECEPTION), store=store, data=data, source=LeadSource.STAFF)
    assert booking_sms_params(lead, store) == {
        "name": "钱女士",
        "number": lead.number,
        "store": "上海徐汇店",
        "address": "上海市徐汇区漕溪北路 88 号",
        "time": f"{local_today() + timedelta(days=1):%m-%d} 14:30",
    }
