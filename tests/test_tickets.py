"""Service tickets (售后工单) through the emulator and the H5 pages: 报修 in chat → the form → the suggested
installer one tap away → 接单 → photos before and after from the chat → 完成 → the customer confirms on the
ticket's page → the order's timeline; a low score's complaint; the overdue alert once per ticket; maintenance
for a customer the visit never reached, and its second cycle; the refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp

from infra.timeutil import local_today, utcnow
from models import (
    Alert,
    Attachment,
    AttachmentCategory,
    Job,
    MessageState,
    Order,
    OrderState,
    Staff,
    Ticket,
    TicketKind,
    TicketSource,
    TicketState,
)
from models.flows import INSTALL
from scheduler.plan import plan_recurring
from tests.support import World, jpeg
from tests.test_measure_slice import csrf
from tests.test_permissions import at_state
from tests.test_scheduler import drain, make_due, workers
from webviews.auth import csrf_token
from workflow import alerts
from workflow.aftersales import MAINTENANCE, MAINTENANCE_BACKFILL, Score, add_months, record_visit
from workflow.customer_link import customer_token, revoke_customer_links
from workflow.morning import MORNING, WORKER_MORNING
from workflow.selectors import order_view
from workflow.tasks import rank_workers
from workflow.tickets import customer_ticket_url, dispatch_ticket, open_ticket

AFTER_SALES = "weishouhou"
MANAGERS = ("wangzong", "liujingli", "chendianzhang")


def error_of(html: str) -> str:
    match = re.search(r'id="(?:form-error|problem-error|confirm-error|message)">(?:<p>)?([^<]*)<', html)
    return match.group(1) if match else ""


async def test_a_ticket_from_chat_is_booked_worked_and_confirmed_by_the_customer(world: World) -> None:
    order = await at_state("TK-CHAT", OrderState.INSTALLED)
    # 报修 <订单号> in chat: a card to fill the problem in on H5.
    await world.say(AFTER_SALES, "报修 tk-chat")
    form_card = world.card(AFTER_SALES, "报修：填写问题")
    assert "/h5/orders/TK-CHAT/tickets/new" in form_card.card["card_action"]["url"]
    # Before the install there is nothing to repair.
    early = await at_state("TK-EARLY", OrderState.DESIGNED)
    await world.say(AFTER_SALES, f"报修 {early.number}")
    assert world.last_text(AFTER_SALES) == f"订单 {early.number} 设计完成，安装完成后才能报修"

    url = f"{world.relay_url}/h5/orders/TK-CHAT/tickets/new"
    async with world.browser_session(AFTER_SALES) as http:
        async with http.get(url) as resp:
            assert resp.status == 200
            token = csrf(await resp.text())
        # Bad input: no kind, no description; nothing is opened.
        async with http.post(url, data={"csrf": token, "kind": "", "description": ""}) as resp:
            assert resp.status == 400
            assert error_of(await resp.text()) == "请选择工单类型"
        async with http.post(url, data={"csrf": token, "kind": "repair", "description": "  "}) as resp:
            assert resp.status == 400
            assert error_of(await resp.text()) == "请描述遇到的问题"
        assert not await Ticket.exists()
        form = aiohttp.FormData()
        form.add_field("csrf", token)
        form.add_field("kind", "repair")
        form.add_field("description", "移门滑轮异响，关不严")
        form.add_field("photos", jpeg(), filename="门.jpg", content_type="image/jpeg")
        async with http.post(url, data=form, allow_redirects=False) as resp:
            assert resp.status == 302, error_of(await resp.text())
            page = resp.headers["Location"]
    await world.settle()
    ticket = await Ticket.get(order_id=order.id)
    assert page == f"/h5/orders/TK-CHAT/tickets/{ticket.id}?done=opened"
    assert (ticket.kind, ticket.source, ticket.state) == (TicketKind.REPAIR, TicketSource.STAFF_H5, TicketState.OPEN)
    assert re.fullmatch(r"S\d{4}-0001", ticket.number)
    assert ticket.deadline - ticket.state_since == timedelta(days=3)  # type: ignore[operator]  # tickets.repair_days
    assert await Attachment.filter(ticket_id=ticket.id, category=AttachmentCategory.TICKET_REPORT).count() == 1
    # The order page offers 报修 and lists the ticket.
    async with world.browser_session(AFTER_SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/TK-CHAT") as resp:
            html = await resp.text()
    assert 'href="/h5/orders/TK-CHAT/tickets/new"' in html
    assert f'<a href="/h5/orders/TK-CHAT/tickets/{ticket.id}"><span>维修 · {ticket.number}</span>' in html

    # After-sales book it with the suggested installer, one tap.
    card = world.card(AFTER_SALES, "新维修工单，待派单")
    suggested = next(b.text for b in card.buttons if b.text.startswith("派给"))
    await world.tap(AFTER_SALES, card, "派给")
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.DISPATCHED and ticket.scheduled_date == local_today()
    worker = await Staff.get(id=ticket.assignee_id)
    assert suggested.startswith(f"派给{worker.name}")
    # The card now says who took it; booking it again on its page is told who did.
    assert world.card(AFTER_SALES, "新维修工单，待派单").buttons == ()
    ticket_page = f"{world.relay_url}/h5/orders/TK-CHAT/tickets/{ticket.id}"
    async with world.browser_session(AFTER_SALES) as http:
        async with http.get(ticket_page) as resp:
            html = await resp.text()
            assert 'id="dispatch-form"' not in html and 'id="reschedule-form"' in html
        again = {"csrf": csrf(html), "action": "dispatch", "worker": str(worker.id), "date": local_today().isoformat()}
        async with http.post(ticket_page, data=again) as resp:
            assert resp.status == 409
            assert error_of(await resp.text()) == f"维修工单 {ticket.number} 已由 卫客服 派给 {worker.name}"

    # An installer who does not hold the ticket is refused on its page.
    other = "wuceliang" if worker.userid == "chenanzhuang" else "chenanzhuang"
    async with world.browser_session(other) as http:
        async with http.get(ticket_page) as resp:
            html = await resp.text()
            assert resp.status == 200 and 'id="accept"' not in html
        # Nothing offered: the form sent as if it were (the member's own form key, so only the rule refuses).
        key = csrf_token(await world.staff(other))
        async with http.post(ticket_page, data={"csrf": key, "action": "accept"}) as resp:
            assert resp.status == 403
            assert error_of(await resp.text()) == f"维修工单 {ticket.number} 不是派给你的工单"
    await world.settle()
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.DISPATCHED

    # The installer's card: 接单, then photos before and after from the chat, then 完成.
    task_card = world.card(worker.userid, "新维修任务")
    await world.tap(worker.userid, task_card, "接单")
    bench = world.card(worker.userid, "维修进行中")
    await world.photo(worker.userid, jpeg(color=(10, 10, 200)))
    assert world.last_text(worker.userid).startswith(f"维修前照片已保存（工单 {ticket.number}，第 1 张")
    await world.tap(worker.userid, bench, "完成")
    assert world.last_text(worker.userid) == "维修后照片不足：至少需要 1 张，已上传 0 张（先点“发维修后照片”再发送）"
    await world.tap(worker.userid, bench, "发维修后照片")
    assert world.last_text(worker.userid) == f"接下来发送的照片将作为维修后照片归入工单 {ticket.number}"
    await world.photo(worker.userid, jpeg(color=(10, 200, 10)))
    assert world.last_text(worker.userid) == f"维修后照片已保存（工单 {ticket.number}，第 1 张，可以点“完成”了）"
    await world.tap(worker.userid, bench, "完成")
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.DONE and ticket.done_at is not None
    # The installer and after-sales get the customer's link to forward.
    for userid in (worker.userid, AFTER_SALES):
        done = world.card(userid, "维修已完成，请客户确认")
        assert re.fullmatch(rf"{world.relay_url}/c/[^/]+/tickets/{ticket.id}", done.card["card_action"]["url"])
    # The customer opens the link the installer forwards.
    confirm_url = world.card(worker.userid, "维修已完成，请客户确认").card["card_action"]["url"]

    # The customer confirms on the ticket's page, no account.
    async with aiohttp.ClientSession() as customer:
        async with customer.get(confirm_url) as resp:
            html = await resp.text()
            assert resp.status == 200 and "师傅已处理完成，请您确认" in html
            assert "维修前照片（1）" in html and "维修后照片（1）" in html
        async with customer.post(confirm_url, data={"comment": "好了，谢谢"}, allow_redirects=False) as resp:
            assert resp.status == 302
        await world.settle()
        async with customer.get(confirm_url) as resp:
            assert "您已确认处理完成" in await resp.text()
        # Twice: a clear refusal, nothing changed.
        async with customer.post(confirm_url, data={"comment": "再来"}) as resp:
            assert resp.status == 409
            assert error_of(await resp.text()) == "这个服务单您已确认处理完成，感谢您的反馈，无需再确认"
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.CONFIRMED and ticket.confirm_comment == "好了，谢谢"
    assert world.card(AFTER_SALES, "客户已确认工单完成").card["quote_area"]["quote_text"] == "客户留言：好了，谢谢"

    # Every step on the order's timeline.
    lines = "\n".join((await order_view(order, with_timeline=True)).timeline)
    n = ticket.number
    for text in (
        f"卫客服 报修：维修工单 {n}（移门滑轮异响，关不严）",
        f"卫客服 将维修工单 {n} 派给 {worker.name}，{local_today().isoformat()} 上门",
        f"{worker.name} 接受维修工单 {n}",
        f"{worker.name} 上传维修工单 {n} 的维修前照片",
        f"{worker.name} 完成维修工单 {n}（2 张照片）",
        f"客户确认维修工单 {n} 已完成",
    ):
        assert text in lines, (text, lines)


async def test_the_customers_links_are_refused_for_another_order_or_once_revoked(world: World) -> None:
    order = await at_state("TK-LINK", OrderState.INSTALLED)
    other = await at_state("TK-OTHER", OrderState.INSTALLED)
    ticket = await open_ticket(
        actor=await Staff.get(userid=AFTER_SALES),
        order=order,
        kind=TicketKind.COMPLAINT,
        source=TicketSource.CHAT,
        description="师傅迟到",
    )
    async with aiohttp.ClientSession() as customer:
        # Another order's link with this ticket's id: no such service for that customer.
        wrong = f"{world.relay_url}/c/{customer_token(other)}/tickets/{ticket.id}"
        async with customer.get(wrong) as resp:
            assert resp.status == 404
            assert error_of(await resp.text()) == "没有找到这个服务单，请从您的订单页面进入。"
        async with customer.post(wrong, data={"comment": "x"}) as resp:
            assert resp.status == 404
        async with customer.get(f"{world.relay_url}/c/not-a-token/problem") as resp:
            assert resp.status == 403
            assert error_of(await resp.text()) == "这个订单链接无效，请向您的销售顾问索取正确的链接。"
        good = customer_ticket_url(order, ticket)
        async with customer.get(good) as resp:
            assert resp.status == 200
            assert resp.headers["Referrer-Policy"] == "no-referrer"
            assert "frame-ancestors" in resp.headers["Content-Security-Policy"]
        await revoke_customer_links(order)
        async with customer.get(good) as resp:
            assert resp.status == 403
            assert error_of(await resp.text()) == "这个订单链接已被收回，请向您的销售顾问索取新的链接。"
        async with customer.post(f"{world.relay_url}/c/{customer_token(other)}/problem", data={"what": "x"}) as resp:
            assert resp.status == 400
            assert error_of(await resp.text()) == "请选择问题类型"
    assert await Ticket.filter(order_id=other.id).count() == 0


async def test_a_low_score_opens_a_complaint_for_after_sales(world: World) -> None:
    order = await at_state("TK-LOW", OrderState.SIGNED)
    caller = await Staff.get(userid=AFTER_SALES)
    scores = {"sales": Score(5), "measurer": Score(4), "installer": Score(1, "现场没有清理")}
    await record_visit(actor=caller, order=order, reached=True, notes="", scores=scores)
    await world.settle()
    [ticket] = await Ticket.filter(order_id=order.id)
    assert (ticket.kind, ticket.source, ticket.state) == (
        TicketKind.COMPLAINT,
        TicketSource.LOW_SCORE,
        TicketState.OPEN,
    )
    assert "安装" in ticket.description and "现场没有清理" in ticket.description
    card = world.card(AFTER_SALES, "新投诉工单，待派单")
    assert card.desc.startswith(ticket.number)
    assert "回访评分偏低" in card.card["quote_area"]["quote_text"]
    for manager in MANAGERS:
        world.card(manager, "预警：客户评分偏低")
    lines = (await order_view(order, with_timeline=True)).timeline
    assert any(f"回访评分偏低，自动生成：投诉工单 {ticket.number}" in line for line in lines)


async def test_a_ticket_past_its_deadline_alerts_the_managers_once(world: World) -> None:
    order = await at_state("TK-LATE", OrderState.INSTALLED)
    actor = await Staff.get(userid=AFTER_SALES)
    first = await open_ticket(
        actor=actor, order=order, kind=TicketKind.COMPLAINT, source=TicketSource.CHAT, description="未回电"
    )
    await alerts.scan()
    await world.settle()
    assert not await Alert.exists()  # not late yet
    await Ticket.filter(id=first.id).update(deadline=utcnow() - timedelta(minutes=1))
    await alerts.scan()
    await alerts.scan()
    await world.settle()
    for manager in MANAGERS:
        cards = [c for c in world.emu.cards(manager) if c.title == "预警：售后工单逾期"]
        assert len(cards) == 1, manager
        assert f"投诉工单 {first.number}" in cards[0].card["quote_area"]["quote_text"]
    # A second late ticket on the same order gets its own alert, once.
    second = await open_ticket(
        actor=actor, order=order, kind=TicketKind.REPAIR, source=TicketSource.CHAT, description="漏水"
    )
    await Ticket.filter(id=second.id).update(deadline=utcnow() - timedelta(minutes=1))
    await alerts.scan()
    await alerts.scan()
    await world.settle()
    assert sorted(await Alert.filter(order_id=order.id).values_list("rule", flat=True)) == sorted(
        [f"ticket_overdue:{first.id}", f"ticket_overdue:{second.id}"]
    )
    assert [c.title for c in world.emu.cards("wangzong")].count("预警：售后工单逾期") == 2
    # The installer and after-sales, who do not handle alerts, are not told.
    assert "预警：售后工单逾期" not in [c.title for c in world.emu.cards(AFTER_SALES)]
    # In the managers' 我的任务, with its title.
    await world.say("chendianzhang", "我的任务")
    assert "预警：售后工单逾期" in world.card("chendianzhang", "我的任务").card["quote_area"]["quote_text"]


async def test_maintenance_reaches_a_customer_the_visit_never_reached(world: World) -> None:
    order = await at_state("TK-MAINT", OrderState.INSTALLED)
    # Scheduled at install, from the installation date, before any visit.
    jobs = await Job.filter(kind=MAINTENANCE, key__startswith=f"{MAINTENANCE}:{order.id}:").order_by("key")
    assert [j.key.rsplit(":", 1)[1] for j in jobs] == ["1"]
    [first] = jobs
    assert first.payload["months"] == 6 and first.due_at == add_months(order.installed_at, 6)  # type: ignore[arg-type]
    # The visit never reaches the customer.
    caller = await Staff.get(userid=AFTER_SALES)
    await record_visit(actor=caller, order=order, reached=False, notes="无人接听")
    await order.refresh_from_db()
    assert order.state == OrderState.INSTALLED
    # Six months pass: the reminder becomes a 保养 ticket for after-sales to book.
    await make_due(MAINTENANCE)
    await drain(world, *workers(2))
    [ticket] = await Ticket.filter(order_id=order.id)
    assert (ticket.kind, ticket.source, ticket.state) == (
        TicketKind.MAINTENANCE,
        TicketSource.SCHEDULE,
        TicketState.OPEN,
    )
    assert ticket.description == "淋浴房 K系列 第 1 次定期保养（每 6 个月）"
    card = world.card(AFTER_SALES, "新保养工单，待派单")
    assert any(b.text.startswith("派给") for b in card.buttons)
    # The second cycle is scheduled six months after the first.
    await first.refresh_from_db()
    assert first.state == MessageState.DONE
    second = await Job.get(key=f"{MAINTENANCE}:{order.id}:淋浴房 K系列:2")
    assert second.due_at == add_months(first.due_at, 6) and second.state == MessageState.PENDING
    # The visit reaching the customer later schedules nothing twice.
    await record_visit(
        actor=caller,
        order=order,
        reached=True,
        scores={"sales": Score(5), "measurer": Score(5), "installer": Score(5)},
    )
    assert await Job.filter(kind=MAINTENANCE, key__startswith=f"{MAINTENANCE}:{order.id}:").count() == 2
    # The second cycle comes round too: a second 保养 ticket.
    await make_due(MAINTENANCE)
    await drain(world, *workers(1))
    descriptions = await Ticket.filter(order_id=order.id).order_by("id").values_list("description", flat=True)
    assert descriptions[-1] == "淋浴房 K系列 第 2 次定期保养（每 6 个月）"


async def test_orders_installed_before_get_their_maintenance_once(world: World) -> None:
    order = await at_state("TK-OLD", OrderState.INSTALLED)
    # As a database from before this change: installed, no reminder.
    await Job.filter(kind=MAINTENANCE).delete()
    await Order.filter(id=order.id).update(installed_at=utcnow() - timedelta(days=400))
    from scheduler.plan import plan_recurring

    await plan_recurring()
    await plan_recurring()
    assert await Job.filter(kind=MAINTENANCE_BACKFILL).count() == 1
    await make_due(MAINTENANCE_BACKFILL)
    await drain(world, *workers(1))
    await order.refresh_from_db()
    first = await Job.get(key=f"{MAINTENANCE}:{order.id}:淋浴房 K系列:1")
    assert first.due_at == add_months(order.installed_at, 6)  # type: ignore[arg-type]
    # Long past: it came round at once, as a 保养 ticket, and the next cycle follows from it.
    assert first.state == MessageState.DONE
    assert await Ticket.filter(order_id=order.id, kind=TicketKind.MAINTENANCE).count() == 1
    # The missed cycle is not made up: the next one is the first still ahead.
    second = await Job.get(key=f"{MAINTENANCE}:{order.id}:淋浴房 K系列:3")
    assert second.due_at == add_months(first.due_at, 12) and second.due_at > utcnow()
    assert not await Job.exists(key=f"{MAINTENANCE}:{order.id}:淋浴房 K系列:2")
    # Run again (the row purged, say): nothing is scheduled twice.
    from workflow.aftersales import backfill_maintenance

    assert await backfill_maintenance() == 0


async def test_a_declined_ticket_goes_back_to_after_sales_and_a_complaint_is_settled_by_phone(world: World) -> None:
    order = await at_state("TK-BACK", OrderState.INSTALLED)
    after_sales = await Staff.get(userid=AFTER_SALES)
    ticket = await open_ticket(
        actor=after_sales, order=order, kind=TicketKind.REPAIR, source=TicketSource.CHAT, description="把手松了"
    )
    await world.settle()
    await world.tap(AFTER_SALES, world.card(AFTER_SALES, "新维修工单，待派单"), "派给")
    await ticket.refresh_from_db()
    worker = await Staff.get(id=ticket.assignee_id)
    await world.tap(worker.userid, world.card(worker.userid, "新维修任务"), "拒单")
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN and ticket.assignee_id is None
    again = world.card(AFTER_SALES, "工单被拒，请重新派单")
    assert again.card["quote_area"]["quote_text"] == f"{worker.name} 拒单：未说明原因"
    assert any(b.text.startswith("派给") for b in again.buttons)
    # The installer who declined no longer holds it.
    page = f"{world.relay_url}/h5/orders/TK-BACK/tickets/{ticket.id}"
    async with world.browser_session(worker.userid) as http:
        key = csrf_token(worker)
        async with http.post(page, data={"csrf": key, "action": "accept"}) as resp:
            assert resp.status == 403
    # A complaint settled on the phone: 办结 needs what was done, and then the ticket is closed.
    complaint = await open_ticket(
        actor=after_sales, order=order, kind=TicketKind.COMPLAINT, source=TicketSource.CHAT, description="态度不好"
    )
    page = f"{world.relay_url}/h5/orders/TK-BACK/tickets/{complaint.id}"
    async with world.browser_session(AFTER_SALES) as http:
        async with http.get(page) as resp:
            token = csrf(await resp.text())
        async with http.post(page, data={"csrf": token, "action": "close", "reason": " "}) as resp:
            assert resp.status == 400
            assert error_of(await resp.text()) == "请填写处理结果"
        async with http.post(page, data={"csrf": token, "action": "close", "reason": "已致电道歉，客户接受"}) as resp:
            assert resp.status == 200
            assert "工单已办结。" in await resp.text()
    await complaint.refresh_from_db()
    assert complaint.state == TicketState.CLOSED and complaint.resolution == "已致电道歉，客户接受"
    lines = "\n".join((await order_view(order, with_timeline=True)).timeline)
    assert f"{worker.name} 拒绝维修工单 {ticket.number}：未说明" in lines
    assert f"卫客服 办结投诉工单 {complaint.number}：已致电道歉，客户接受" in lines


async def test_a_customers_tickets_are_in_their_data_and_their_words_go_with_erasure(world: World) -> None:
    from workflow.privacy import customer_data, erase_customer

    order = await at_state("TK-PIPL", OrderState.INSTALLED)
    ticket = await open_ticket(
        actor=await Staff.get(userid=AFTER_SALES),
        order=order,
        kind=TicketKind.REPAIR,
        source=TicketSource.CHAT,
        description="孙女士家主卫漏水",
    )
    customer = await order.customer
    [held] = (await customer_data(customer, [order]))["orders"]
    assert held["service_tickets"][0]["number"] == ticket.number
    assert held["service_tickets"][0]["description"] == "孙女士家主卫漏水"
    await erase_customer(actor=await Staff.get(userid="wangzong"), customer_id=customer.id)
    await ticket.refresh_from_db()
    assert ticket.description == "" and ticket.number  # the ticket stays, counted; the words go
    lines = "\n".join((await order_view(order, with_timeline=True)).timeline)
    assert "孙女士" not in lines and f"维修工单 {ticket.number}（—）" in lines


async def test_after_sales_reschedule_and_reassign_a_booked_ticket_on_its_page(world: World) -> None:
    order = await at_state("TK-MOVE", OrderState.INSTALLED)
    after_sales = await Staff.get(userid=AFTER_SALES)
    ticket = await open_ticket(
        actor=after_sales, order=order, kind=TicketKind.MAINTENANCE, source=TicketSource.CHAT, description="清洗"
    )
    first, second = await Staff.get(userid="chenanzhuang"), await Staff.get(userid="wuceliang")
    page = f"{world.relay_url}/h5/orders/TK-MOVE/tickets/{ticket.id}"
    today, later = local_today(), local_today() + timedelta(days=3)
    async with world.browser_session(AFTER_SALES) as http:
        async with http.get(page) as resp:
            token = csrf(await resp.text())
        book = {
            "csrf": token,
            "action": "dispatch",
            "worker": str(first.id),
            "date": (today - timedelta(days=1)).isoformat(),
        }
        async with http.post(page, data=book) as resp:
            assert resp.status == 400 and error_of(await resp.text()) == "日期不能早于今天"
        async with http.post(page, data={**book, "date": today.isoformat()}) as resp:
            assert resp.status == 200 and "已派单，已通知师傅。" in await resp.text()
        move = {"csrf": token, "action": "reschedule", "date": later.isoformat(), "reason": "客户出差"}
        async with http.post(page, data=move) as resp:
            assert resp.status == 200 and "已改期。" in await resp.text()
        hand = {"csrf": token, "action": "reassign", "worker": str(second.id), "reason": "就近"}
        async with http.post(page, data=hand) as resp:
            assert resp.status == 200 and "已改派。" in await resp.text()
    await world.settle()
    await ticket.refresh_from_db()
    assert (ticket.state, ticket.assignee_id, ticket.scheduled_date) == (TicketState.DISPATCHED, second.id, later)
    assert (
        world.card("chenanzhuang", "工单改期").card["quote_area"]["quote_text"]
        == f"卫客服 改到 {later:%m月%d日}：客户出差"
    )
    assert world.card("chenanzhuang", "工单已改派").card["quote_area"]["quote_text"] == "卫客服 改派给 吴师傅：就近"
    world.card("wuceliang", "新保养任务")
    lines = "\n".join((await order_view(order, with_timeline=True)).timeline)
    assert f"卫客服 将保养工单 {ticket.number} 由 {today.isoformat()} 改到 {later.isoformat()}" in lines
    assert f"卫客服 将保养工单 {ticket.number} 改派给 吴师傅（原 陈师傅）" in lines


async def test_a_booked_ticket_visit_fills_the_installers_day_and_is_on_his_morning_card(world: World) -> None:
    order = await at_state("TK-DAY", OrderState.INSTALLED)
    after_sales = await Staff.get(userid=AFTER_SALES)
    ticket = await open_ticket(
        actor=after_sales, order=order, kind=TicketKind.REPAIR, source=TicketSource.CHAT, description="合页松了"
    )
    dispatcher, today = await Staff.get(userid="zhaopaidan"), local_today()
    before = await rank_workers(INSTALL, dispatcher=dispatcher, day=today)
    first = before[0].staff
    assert before[0].tasks_that_day == 0 and len(before) > 1
    await dispatch_ticket(actor=after_sales, ticket_id=ticket.id, worker_id=first.id, day=today)

    # The install dispatch's suggestion counts the visit: the first installer is no longer free today.
    ranked = await rank_workers(INSTALL, dispatcher=dispatcher, day=today)
    assert {s.staff.id: s.tasks_that_day for s in ranked}[first.id] == 1
    assert ranked[0].staff.id != first.id

    await world.settle()
    seen = len(world.emu.cards(first.userid))
    await plan_recurring(utcnow())
    await make_due(MORNING)
    await drain(world, *workers(1))
    await make_due(WORKER_MORNING)
    await drain(world, *workers(1))
    [morning] = [c for c in world.emu.cards(first.userid)[seen:] if c.title.startswith("今天上门")]
    assert morning.title == "今天上门 1 户"
    assert "维修" in morning.card["quote_area"]["quote_text"]
