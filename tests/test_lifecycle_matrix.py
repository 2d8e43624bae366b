"""The permission matrix, generated from the lifecycle table: for every state, every member (each role
in and out of the order's part of the company, the order's own salesperson, the job's assignee, a
teammate, the customer) and every transition, the workflow accepts exactly what `available()`
offers, the H5 order page shows exactly the pages of the accepted actions, a refusal changes
nothing, and every card button an accepted action sends is one its recipients may press.

Each attempt runs inside a transaction that is rolled back, so one order per state serves them all.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from PIL import Image, ImageDraw
from tortoise.transactions import in_transaction

from cards.keys import (
    ApproveKey,
    ConfirmPaymentKey,
    CustomerSendKey,
    CustomerSmsKey,
    DispatchKey,
    FinishTaskKey,
    PhotoCategoryKey,
    PhotosForTaskKey,
    RequestHandledKey,
    TaskAnswerKey,
    TicketDispatchKey,
    unpack_key,
)
from infra.db import db
from infra.runtime import runtime
from infra.timeutil import local_today
from models import (
    AttachmentCategory,
    DayPart,
    Invoice,
    Order,
    OrderItem,
    OrderPiece,
    OrderState,
    OutboxMessage,
    Payment,
    PaymentKind,
    PaymentMethod,
    Product,
    Role,
    Staff,
    Task,
    TaskKind,
    Ticket,
    TicketKind,
    TicketSource,
)
from tests.support import World, jpeg
from tests.test_permissions import FAR, STORE, at_state, member, seeded
from workflow.aftersales import Score, record_visit
from workflow.approval import approve_prices, reject_prices
from workflow.changes import cancel_order, request_remeasure, undo_cancel
from workflow.contact import request_contact_way
from workflow.customer_link import customer_token
from workflow.customer_page import customer_link_for, revoke_customer_page
from workflow.customer_requests import request_reschedule
from workflow.design import add_design, finish_design
from workflow.errors import WorkflowError
from workflow.finance import InvoiceInput, confirm_payment, issue_invoice, void_invoice
from workflow.goods import receive_item
from workflow.install import add_install_photo, finish_install
from workflow.items import ItemInput, edit_prices
from workflow.lifecycle import Transition
from workflow.measure import add_drawing, add_site_photo, adjust_items, categorize_photo, finish_measure
from workflow.order_lifecycle import ORDER
from workflow.orders import edit_customer
from workflow.payments import confirm_design, record_payment, void_payment
from workflow.pricing import LinePrice
from workflow.signing import signing_link_for, signing_token, submit_signature
from workflow.tasks import answer_task, dispatch_task, reassign_task, reschedule_task, transfer_task
from workflow.ticket_lifecycle import TICKET
from workflow.tickets import open_ticket, report_problem

Run = Callable[[Staff | None, Order], Awaitable[object]]
Prepare = Callable[[Order], Awaitable[None]]
RUNS: dict[str, Run] = {}
PREPARE: dict[str, Prepare] = {}


def runs(name: str, prepare: Prepare | None = None) -> Callable[[Run], Run]:
    """How a transition is attempted; `prepare` is what whoever normally does it has done first."""

    def register(fn: Run) -> Run:
        RUNS[name] = fn
        if prepare is not None:
            PREPARE[name] = prepare
        return fn

    return register


class _Undo(Exception):
    """Raised to roll an attempt back."""


_STORED: dict[int, Any] = {}


async def _image() -> Any:
    """A stored photo (stored once per file store: the same bytes are the same file)."""
    files = runtime().files
    if id(files) not in _STORED:
        _STORED[id(files)] = await files.put_image(jpeg())
    return _STORED[id(files)]


async def _job(order: Order, kind: TaskKind) -> Task:
    task = await Task.filter(order_id=order.id, kind=kind, superseded=False).order_by("-id").first()
    if task is None:
        raise _NoJob()
    return task


class _NoJob(WorkflowError):
    def __init__(self) -> None:
        super().__init__("没有任务")


def _ink() -> bytes:
    img = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(20, 20), (280, 130), (40, 120)], fill=(0, 0, 0, 255), width=6)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


# How each transition of the table is attempted, with input that is otherwise valid. The seeded
# demo staff do the preparation: 孙师傅 measures, 陈师傅 installs, 吴师傅 is their teammate.

for _kind, _worker in ((TaskKind.MEASURE, "sunceliang"), (TaskKind.INSTALL, "chenanzhuang")):

    def _field_job(kind: TaskKind, worker: str) -> None:
        @runs(f"dispatch_{kind}")
        async def dispatch(a: Staff | None, o: Order) -> object:
            w = await seeded(worker)
            return await dispatch_task(actor=_staff(a), order=o, kind=kind, worker_id=w.id, day=local_today())

        @runs(f"accept_{kind}")
        async def accept(a: Staff | None, o: Order) -> object:
            return await answer_task(actor=_staff(a), task_id=(await _job(o, kind)).id, accept=True)

        @runs(f"decline_{kind}")
        async def decline(a: Staff | None, o: Order) -> object:
            return await answer_task(actor=_staff(a), task_id=(await _job(o, kind)).id, accept=False, reason="没空")

        @runs(f"reschedule_{kind}")
        async def reschedule(a: Staff | None, o: Order) -> object:
            task = await _job(o, kind)
            day = task.scheduled_date + timedelta(days=3)
            return await reschedule_task(actor=_staff(a), task_id=task.id, day=day)

        @runs(f"reassign_{kind}")
        async def reassign(a: Staff | None, o: Order) -> object:
            mate = await seeded("wuceliang")
            return await reassign_task(actor=_staff(a), task_id=(await _job(o, kind)).id, worker_id=mate.id)

        @runs(f"transfer_{kind}")
        async def transfer(a: Staff | None, o: Order) -> object:
            mate = await seeded("wuceliang")
            return await transfer_task(actor=_staff(a), task_id=(await _job(o, kind)).id, colleague_id=mate.id)

    _field_job(_kind, _worker)


def _staff(actor: Staff | None) -> Staff:
    assert actor is not None, "a member's action attempted as the customer"
    return actor


@runs("add_site_photo")
async def _site_photo(a: Staff | None, o: Order) -> object:
    return await add_site_photo(actor=_staff(a), order=o, stored=await _image(), media_id=None)


@runs("categorize_photo")
async def _categorize(a: Staff | None, o: Order) -> object:
    photo = await add_site_photo(actor=_staff(a), order=o, stored=await _image(), media_id=None)
    return await categorize_photo(actor=_staff(a), attachment_id=photo.id, category=AttachmentCategory.OTHER)


@runs("add_drawing")
async def _drawing(a: Staff | None, o: Order) -> object:
    return await add_drawing(actor=_staff(a), order=o, stored=await _image(), filename="图纸.jpg")


@runs("adjust_items")
async def _items(a: Staff | None, o: Order) -> object:
    k5 = await Product.get(model="K5")
    return await adjust_items(actor=_staff(a), order=o, items=[ItemInput(product_id=k5.id, room="次卫", quantity=2)])


async def _measured_photo(o: Order) -> None:
    measurer = await seeded("sunceliang")
    shot = await add_site_photo(actor=measurer, order=o, stored=await _image(), media_id=None)
    await categorize_photo(actor=measurer, attachment_id=shot.id, category=AttachmentCategory.WINDOWS)


@runs("finish_measure", prepare=_measured_photo)
async def _finish_measure(a: Staff | None, o: Order) -> object:
    return await finish_measure(actor=_staff(a), order=o)


@runs("remeasure")
async def _remeasure(a: Staff | None, o: Order) -> object:
    return await request_remeasure(actor=_staff(a), order=o, reason="客户改了布局")


@runs("add_design")
async def _design(a: Staff | None, o: Order) -> object:
    return await add_design(actor=_staff(a), order=o, stored=await _image(), filename="效果图.jpg")


async def _designed(o: Order) -> None:
    await add_design(actor=await seeded("zhengsheji"), order=o, stored=await _image(), filename="效果图.jpg")


@runs("finish_design", prepare=_designed)
async def _finish_design(a: Staff | None, o: Order) -> object:
    return await finish_design(actor=_staff(a), order=o)


@runs("approve")
async def _approve(a: Staff | None, o: Order) -> object:
    return await approve_prices(actor=_staff(a), order=o)


@runs("reject")
async def _reject(a: Staff | None, o: Order) -> object:
    return await reject_prices(actor=_staff(a), order=o, reason="折扣太大")


@runs("confirm")
async def _confirm(a: Staff | None, o: Order) -> object:
    return await confirm_design(
        actor=_staff(a),
        order=o,
        contract_amount=Decimal("9000"),
        first_payment=Decimal("1000"),
        method=PaymentMethod.CASH,
        kind=PaymentKind.DEPOSIT,
    )


@runs("edit_prices")
async def _edit_prices(a: Staff | None, o: Order) -> object:
    first = await OrderItem.filter(order_id=o.id).order_by("id").first()
    assert first is not None
    return await edit_prices(
        actor=_staff(a), order=o, lines={first.id: LinePrice(unit_price=Decimal("4321.00"))}, order_discount=None
    )


@runs("record_payment")
async def _payment(a: Staff | None, o: Order) -> object:
    return await record_payment(
        actor=_staff(a), order=o, amount=Decimal("1"), method=PaymentMethod.CASH, kind=PaymentKind.BALANCE
    )


@runs("receive_item")
async def _goods_in(a: Staff | None, o: Order) -> object:
    piece = await OrderPiece.filter(order_id=o.id, arrived_at__isnull=True).order_by("id").first()
    if piece is None:
        raise _NoJob()
    return await receive_item(actor=_staff(a), order=o, item_id=piece.item_id, production_number=f"M-{o.number}")


@runs("add_install_photo")
async def _install_photo(a: Staff | None, o: Order) -> object:
    return await add_install_photo(actor=_staff(a), order=o, stored=await _image(), media_id=None)


async def _install_photos(o: Order) -> None:
    for _ in range(2):
        await add_install_photo(actor=await seeded("chenanzhuang"), order=o, stored=await _image(), media_id=None)


@runs("finish_install", prepare=_install_photos)
async def _finish_install(a: Staff | None, o: Order) -> object:
    return await finish_install(actor=_staff(a), order=o)


@runs("share_signing")
async def _share(a: Staff | None, o: Order) -> object:
    return await signing_link_for(actor=_staff(a), order=o)


@runs("contact_customer")
async def _contact_customer(a: Staff | None, o: Order) -> object:
    return await request_contact_way(actor=_staff(a), order=o)


@runs("sign")
async def _sign(a: Staff | None, o: Order) -> object:
    return await submit_signature(token=signing_token(o), png=_ink(), ip="", user_agent="")


@runs("share_customer_page")
async def _share_customer_page(a: Staff | None, o: Order) -> object:
    return await customer_link_for(actor=_staff(a), order=o)


@runs("revoke_customer_page")
async def _revoke_customer_page(a: Staff | None, o: Order) -> object:
    await revoke_customer_page(actor=_staff(a), order=o)
    return o


for _kind in (TaskKind.MEASURE, TaskKind.INSTALL):

    def _customer_request(kind: TaskKind) -> None:
        @runs(f"request_reschedule_{kind}")
        async def ask(a: Staff | None, o: Order) -> object:
            task = await Task.filter(order_id=o.id, kind=kind, superseded=False).order_by("-id").first()
            day = max(task.scheduled_date if task else local_today(), local_today()) + timedelta(days=3)
            return await request_reschedule(order=o, kind=kind, wanted=day, part=DayPart.MORNING, note="")

    _customer_request(_kind)


@runs("open_ticket")
async def _open_ticket(a: Staff | None, o: Order) -> object:
    if a is None:  # the customer, on their own page
        return await report_problem(token=customer_token(o), what="repair", description="柜门合页松了", photos=[])
    return await open_ticket(
        actor=a, order=o, kind=TicketKind.REPAIR, source=TicketSource.STAFF_H5, description="柜门合页松了"
    )


@runs("visit")
async def _visit(a: Staff | None, o: Order) -> object:
    scores = {r: Score(4) for r in ("sales", "measurer", "installer")}
    return await record_visit(actor=_staff(a), order=o, reached=True, scores=scores)


@runs("visit_unreached")
async def _unreached(a: Staff | None, o: Order) -> object:
    return await record_visit(actor=_staff(a), order=o, reached=False, notes="无人接听")


@runs("cancel")
async def _cancel(a: Staff | None, o: Order) -> object:
    return await cancel_order(actor=_staff(a), order=o, reason="客户不装了")


@runs("undo_cancel")
async def _undo_cancel(a: Staff | None, o: Order) -> object:
    return await undo_cancel(actor=_staff(a), order=o)


@runs("void_payment")
async def _void_payment(a: Staff | None, o: Order) -> object:
    payment = await Payment.filter(order_id=o.id).order_by("id").first()
    return await void_payment(actor=_staff(a), order=o, payment_id=payment.id if payment else -1, reason="记错了")


@runs("edit_customer")
async def _edit_customer(a: Staff | None, o: Order) -> object:
    return await edit_customer(
        actor=_staff(a), order=o, customer_name="客户", phone="13900000001", address="上海", reason="客户换了号码"
    )


@runs("confirm_payment")
async def _confirm_payment(a: Staff | None, o: Order) -> object:
    payment = await Payment.filter(order_id=o.id, confirmed_at__isnull=True, voided_at__isnull=True).first()
    return await confirm_payment(actor=_staff(a), order=o, payment_id=payment.id if payment else -1)


@runs("issue_invoice")
async def _issue_invoice(a: Staff | None, o: Order) -> object:
    form = InvoiceInput(number=f"FP{o.id}", amount="100.00", issued_on="", buyer_tax_id="91310000MA1FL8XQ30")
    return await issue_invoice(actor=_staff(a), order=o, form=form)


async def _invoiced(o: Order) -> None:
    await _issue_invoice(await seeded("qiankuaiji"), o)


@runs("void_invoice", prepare=_invoiced)
async def _void_invoice(a: Staff | None, o: Order) -> object:
    invoice = await Invoice.filter(order_id=o.id, voided_at__isnull=True).first()
    return await void_invoice(actor=_staff(a), order=o, invoice_id=invoice.id if invoice else -1, reason="抬头开错")


# The transitions a member never presses: creating (no order yet) and what follows by itself.
NOT_ATTEMPTED = {t.name for t in ORDER if not t.source or t.automatic}


def test_every_transition_is_attempted() -> None:
    assert set(RUNS) == {t.name for t in ORDER} - NOT_ATTEMPTED


async def order_in(state: OrderState, number: str) -> Order:
    """An order walked to `state` by the real workflow, as the demo's staff would."""
    if state in (OrderState.SIGNED, OrderState.VISITED):
        order = await at_state(number, OrderState.INSTALLED)
        await _sign(None, order)
        if state == OrderState.VISITED:
            await _visit(await seeded("weishouhou"), order)
        return await Order.get(id=order.id)
    if state == OrderState.INSTALL_SCHEDULED:
        order = await at_state(number, OrderState.IN_STOCK)
        await RUNS["dispatch_install"](await seeded("zhaopaidan"), order)
        return await Order.get(id=order.id)
    if state == OrderState.CANCELLED:
        order = await at_state(number, OrderState.CONFIRMED)
        await _cancel(await seeded("zhangxiaoshou"), order)
        return await Order.get(id=order.id)
    return await at_state(number, state)


# What a refused attempt must leave as it was, in two queries, since the matrix takes thousands of these:
# the order's row with what hangs off it, and its field jobs.
STANDING = """SELECT state, contract_amount,
 (SELECT count(*) FROM order_event WHERE order_id = {id}),
 (SELECT count(*) FROM payment WHERE order_id = {id}),
 (SELECT count(*) FROM attachment WHERE order_id = {id}),
 (SELECT count(*) FROM order_piece WHERE order_id = {id} AND arrived_at IS NOT NULL),
 (SELECT count(*) FROM visit WHERE order_id = {id}),
 (SELECT count(*) FROM outbox)
 FROM "order" WHERE id = {id}"""
JOBS = "SELECT state, assignee_id, scheduled_date FROM task WHERE order_id = {id} ORDER BY id"


async def snapshot(order: Order) -> tuple[object, ...]:
    conn = db()
    _, [standing] = await conn.execute_query(STANDING.format(id=int(order.id)))
    _, jobs = await conn.execute_query(JOBS.format(id=int(order.id)))
    return tuple(standing), tuple(tuple(job) for job in jobs)


async def actors() -> dict[str, Staff | None]:
    """Every role in the order's store and in another region, plus the people the order names."""
    people: dict[str, Staff | None] = {}
    for role in Role:
        people[f"near-{role.value}"] = await member(f"near-{role.value}", role, STORE)
        people[f"far-{role.value}"] = await member(f"far-{role.value}", role, FAR)
    for userid in ("zhangxiaoshou", "zhaopaidan", "sunceliang", "wuceliang", "chenanzhuang", "zhengsheji"):
        people[userid] = await seeded(userid)
    people["customer"] = None
    return people


async def attempt(
    t: Transition, actor: Staff | None, order: Order, untouched: tuple[object, ...], last: OutboxMessage | None
) -> bool:
    """Did the workflow accept it? Every change is rolled back: `untouched` is the order as it stands,
    `last` the last message queued before any attempt."""
    accepted = False
    try:
        async with in_transaction():
            before = untouched
            if t.name in PREPARE:
                # Where the preparation cannot be done (another state), the attempt meets the order as it is.
                with contextlib.suppress(WorkflowError):
                    await PREPARE[t.name](order)
                before = await snapshot(order)
            try:
                await RUNS[t.name](actor, order)
            except WorkflowError as refused:
                assert refused.message
                assert await snapshot(order) == before, f"{t.name} refused but changed something"
                raise _Undo() from None
            accepted = True
            await check_cards(await OutboxMessage.filter(id__gt=last.id if last else 0).order_by("id"), order)
            raise _Undo()
    except _Undo:
        pass
    return accepted


# What each card button does, in the table's words.
def pressed(key: Any, task_kinds: dict[int, TaskKind]) -> str | None:
    if isinstance(key, DispatchKey):
        return f"dispatch_{key.kind}"
    if isinstance(key, TaskAnswerKey):
        return f"{'accept' if key.accept else 'decline'}_{task_kinds[key.task_id]}"
    if isinstance(key, FinishTaskKey):
        return f"finish_{task_kinds[key.task_id]}"
    if isinstance(key, PhotosForTaskKey):
        return "add_site_photo" if task_kinds[key.task_id] == TaskKind.MEASURE else "add_install_photo"
    if isinstance(key, PhotoCategoryKey):
        return "categorize_photo"
    if isinstance(key, ApproveKey):
        return "approve"
    if isinstance(key, ConfirmPaymentKey):
        return "confirm_payment"
    if isinstance(key, RequestHandledKey):
        return f"reschedule_{key.kind}"  # settled by whoever may reschedule the job
    if isinstance(key, CustomerSendKey | CustomerSmsKey):
        return "contact_customer"
    return None


def linked_pages(card: dict[str, Any], number: str) -> set[str]:
    """The order's action pages a card links to (buttons, jumps, the card itself), by path."""
    urls = [b.get("url", "") for b in card.get("button_list", []) if b.get("type") == 1]
    urls += [j.get("url", "") for j in card.get("jump_list", [])]
    urls.append(card.get("card_action", {}).get("url", ""))
    paths = {urlsplit(unquote(parse_qs(urlsplit(u).query).get("redirect_uri", [u])[0])).path for u in urls if u}
    pages = {t.page.url(number) for t in ORDER if t.page is not None}
    return paths & pages


async def check_cards(sent: list[OutboxMessage], order: Order) -> None:
    """Each callback button goes to exactly the members who may press it now, and a link to an action
    page only to members who may act there."""
    kinds = {t.id: t.kind for t in await Task.filter(order_id=order.id)}
    for row in sent:
        card = row.payload.get("template_card")
        if not card:
            continue
        for path in linked_pages(card, order.number):
            for userid in str(row.payload["touser"]).split("|"):
                member = await Staff.get(userid=userid)
                offered = {t.page.url(order.number) for t in await ORDER.available(member, order) if t.page}
                assert path in offered, f"{card['main_title']['title']} links {userid} to {path}, who may not act there"
        for button in card.get("button_list", []):
            if button.get("type", 0) != 0:
                continue
            key = unpack_key(button["key"])
            if isinstance(key, TicketDispatchKey):  # a row of the ticket's own table (workflow/ticket_lifecycle.py)
                ticket = await Ticket.get(id=key.ticket_id)
                recipients = set(str(row.payload["touser"]).split("|"))
                step = TICKET["dispatch"]
                may = {s.userid for s in await Staff.filter(active=True) if await TICKET.may(step, s, ticket, order)}
                # After-sales get it; the managers, who may too, hear of a ticket only when it is late.
                assert recipients and recipients <= may, f"{card['main_title']['title']}: to {recipients}, may: {may}"
                continue
            name = pressed(key, kinds)
            assert name is not None, f"a button nobody accounts for: {button}"
            recipients = set(str(row.payload["touser"]).split("|"))
            may = {s.userid for s in await Staff.filter(active=True) if await ORDER.may(ORDER[name], s, order)}
            assert recipients == may, f"{card['main_title']['title']}: {name} sent to {recipients}, may: {may}"


def page_links(html: str, number: str) -> set[str]:
    match = re.search(r'<div class="card" id="actions">(.*?)</div>', html, re.S)
    return set(re.findall(r'href="(/h5/orders/[^"]+)"', match.group(1))) if match else set()


@pytest.mark.one_backend  # the table's rules, not the database's: its queries run on both in the other tests
@pytest.mark.parametrize("state", list(OrderState), ids=[s.value for s in OrderState])
async def test_matrix(world: World, state: OrderState) -> None:
    order = await order_in(state, f"MX-{state.value.upper().replace('_', '')}"[:32])
    assert order.state == state
    people = await actors()
    untouched = await snapshot(order)
    last = await OutboxMessage.all().order_by("-id").first()
    for name, actor in people.items():
        offered = set() if actor is None else {t.name for t in await ORDER.available(actor, order)}
        accepted = set()
        for t in ORDER:
            # The customer's link is the customer's; a member's action is a member's (a row may name both).
            if t.name in NOT_ATTEMPTED or not any((r.role is None) == (actor is None) for r in t.who):
                continue
            if await attempt(t, actor, order, untouched, last):
                accepted.add(t.name)
        if actor is None:
            by_customer = {
                OrderState.INSTALLED: {"sign", "open_ticket"},
                OrderState.SIGNED: {"open_ticket"},
                OrderState.VISITED: {"open_ticket"},
                OrderState.MEASURE_SCHEDULED: {"request_reschedule_measure"},
                OrderState.INSTALL_SCHEDULED: {"request_reschedule_install"},
            }
            assert accepted == by_customer.get(state, set()), accepted
            continue
        assert accepted == offered, (
            f"{name} at {state.value}: accepted {accepted - offered}, refused {offered - accepted}"
        )
        # The order page offers exactly the pages of what was accepted.
        async with world.signed_in(actor.userid) as http:
            async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
                html = await resp.text()
                if resp.status == 404:
                    assert not accepted, f"{name} may act on an order they cannot open"
                    continue
                assert resp.status == 200
        wanted = {ORDER[n].page.url(order.number) for n in accepted if ORDER[n].page is not None}  # type: ignore[union-attr]
        assert page_links(html, order.number) == wanted, f"{name} at {state.value}"
    assert await snapshot(order) == untouched
