"""Showroom bookings (预约, seed 002): booked by staff, on a store's public page, through the API or from
a CSV file; assigned to a consultant (workflow/lead_assign.py); moved by the lead table's rows
(workflow/lead_lifecycle.py) to an outcome; 已成交 makes the order (workflow/orders.py create_order with
the lead), and the conversion rate over a period is won / decided (won or 到店未成交)."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time

from tortoise.transactions import in_transaction

from cards.views import ConversionLine
from infra.runtime import runtime
from infra.security import is_mobile, mask_phone, normalize_phone
from infra.timeutil import fmt_time, local_moment, utcnow
from models import (
    Customer,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadSource,
    LeadState,
    Order,
    OrgUnit,
    Product,
    Role,
    ServiceToken,
    Staff,
)
from workflow import notify
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.lead_assign import card_buttons, consultants_of, fill_store, give
from workflow.lead_lifecycle import DECIDED, LEAD, NEEDS_CONSULTANT, NEEDS_REASON
from workflow.lead_views import lead_phone, may_call_lead
from workflow.machine import Actor, Step
from workflow.sms import queue_sms

NEED_LEVELS = ("高", "中", "低")
BOOK = LEAD["book"]
NAME_LIMIT = 64


@dataclass(frozen=True)
class LeadInput:
    name: str
    phone: str
    need_level: str = ""
    product_ids: tuple[int, ...] = ()
    products: str = ""
    wanted_at: datetime | None = None
    note: str = ""


def booking_sms_params(lead: Lead, store: OrgUnit) -> dict[str, str]:
    """What the customer's SMS says (template "booking"): the booking number and the store's address.
    Text: 【接力家居】{name}您好，您已预约{store}，预约号{number}，到店时间{time}，地址：{address}。"""
    return {
        "name": lead.name,
        "number": lead.number,
        "store": store.name,
        "address": store.address or store.name,
        "time": fmt_time(lead.wanted_at) if lead.wanted_at else "营业时间内",
    }


def check_input(data: LeadInput) -> LeadInput:
    """The booking's fields, tidied, or one refusal naming every wrong field."""
    errors: dict[str, str] = {}
    name = data.name.strip()
    phone = normalize_phone(data.phone)
    if not name:
        errors["name"] = "请填写姓名"
    elif len(name) > NAME_LIMIT:
        errors["name"] = f"姓名请在 {NAME_LIMIT} 字以内"
    if not phone:
        errors["phone"] = "请填写手机号"
    elif not is_mobile(phone):
        errors["phone"] = "手机号应为 11 位数字，以 1 开头"
    if data.need_level and data.need_level not in NEED_LEVELS:
        errors["need_level"] = "需求等级请选 高、中 或 低"
    if len(data.products) > 255:
        errors["products"] = "意向产品请在 255 字以内"
    if len(data.note) > 500:
        errors["note"] = "备注请在 500 字以内"
    if errors:
        raise Invalid.several(errors)
    return LeadInput(
        name=name,
        phone=phone,
        need_level=data.need_level,
        product_ids=data.product_ids,
        products=data.products.strip(),
        wanted_at=data.wanted_at,
        note=data.note.strip(),
    )


async def store_for(actor: Actor | None, store_id: int) -> OrgUnit:
    """The store a booking is for: a unit with no unit below it (a store), in the actor's part of the
    company (anyone for the public page and a service token)."""
    store = await OrgUnit.get_or_none(id=store_id)
    if store is None or await OrgUnit.filter(parent_id=store.id).exists():
        raise Invalid("请选择门店", "store")
    if isinstance(actor, Staff):
        mine = await OrgUnit.get(id=actor.org_unit_id)
        if not store.path.startswith(mine.path):
            raise NotAllowed(f"{store.name} 不在你负责的范围内")
    return store


async def stores_for(actor: Staff | None) -> list[OrgUnit]:
    """The stores a member may book for (every store, for the public and the API)."""
    units = await OrgUnit.all().order_by("path")
    parents = {u.parent_id for u in units}
    stores = [u for u in units if u.id not in parents]
    if actor is None:
        return stores
    mine = await OrgUnit.get(id=actor.org_unit_id)
    return [s for s in stores if s.path.startswith(mine.path)]


async def create_lead(*, actor: Actor | None, store: OrgUnit, data: LeadInput, source: LeadSource) -> Lead:
    """Book: the lead is queued in its store and assigned at once if a consultant is free; the customer
    is sent the booking number and the store's address. `actor` None: the customer on the public page."""
    LEAD.check_role(BOOK, actor)
    if isinstance(actor, Staff):
        store = await store_for(actor, store.id)  # in the member's part of the company
    data = check_input(data)
    products = await _products(data.product_ids)
    vault = runtime().vault
    async with in_transaction():
        lead = await Lead.create(
            number="T" + secrets.token_hex(8),  # a placeholder: the number is made from the id below
            name=data.name,
            phone_encrypted=vault.encrypt(data.phone),
            phone_index=vault.blind_index(data.phone),
            store_id=store.id,
            need_level=data.need_level,
            product_ids=[p.id for p in products],
            products=data.products or "、".join(p.name for p in products)[:255],
            wanted_at=data.wanted_at,
            note=data.note,
            source=source,
            state=LeadState.NEW,
            state_since=utcnow(),
            created_by=actor if isinstance(actor, Staff) else None,
        )
        lead.number = f"Y{utcnow():%y%m}-{lead.id:04d}"
        await Lead.filter(id=lead.id).update(number=lead.number)
        by = actor.name if isinstance(actor, ServiceToken) else ""
        await LeadEvent.create(
            lead_id=lead.id,
            kind=LeadEventKind.CREATED,
            actor=actor if isinstance(actor, Staff) else None,
            text=f"{source.label}{'：' + by if by else ''}",
        )
        # The customer's text with the booking number and the store's address, where SMS is configured.
        params = booking_sms_params(lead, store)
        await queue_sms(template="lead_booked", phone=data.phone, params=params, purpose="booking", lead_id=lead.id)
        await fill_store(store.id)
    await lead.refresh_from_db()
    return lead


async def _products(ids: tuple[int, ...]) -> list[Product]:
    if not ids:
        return []
    found = await Product.filter(id__in=list(ids), active=True).order_by("id")
    if len(found) != len(set(ids)):
        raise Invalid("意向产品不在产品目录中", "product_ids")
    return found


# Finding a lead


async def may_see(actor: Staff, lead: Lead) -> bool:
    """The consultant holding it, and members over its store (reception, consultants, managers)."""
    if lead.consultant_id == actor.id:
        return True
    mine = await OrgUnit.get(id=actor.org_unit_id)
    store = await OrgUnit.get(id=lead.store_id)
    return store.path.startswith(mine.path) and any(
        actor.has_role(r) for r in (Role.RECEPTION, Role.MANAGER, Role.CONSULTANT, Role.ADMIN)
    )


async def lead_for(actor: Staff, number: str) -> Lead:
    lead = await Lead.get_or_none(number=number.strip().upper()[:32])
    if lead is None or not await may_see(actor, lead):
        raise NotFound(f"没有找到预约 {number.strip()[:32]}")
    return lead


async def in_store(actor: Staff, lead: Lead) -> bool:
    mine = await OrgUnit.get(id=actor.org_unit_id)
    return (await OrgUnit.get(id=lead.store_id)).path.startswith(mine.path)


async def phone_for(actor: Staff, lead: Lead) -> str:
    """The full number for who must call the customer, else masked."""
    phone = lead_phone(lead)
    return phone if may_call_lead(actor, lead, in_store=await in_store(actor, lead)) else mask_phone(phone)


@dataclass(frozen=True)
class PhoneHint:
    """What is already known of a phone typed on the booking form (the seed's 号码重复提示)."""

    orders: list[str]
    leads: list[Lead]
    customer_name: str  # the latest customer with the phone: one tap fills the form from it

    @property
    def message(self) -> str:
        parts = []
        if self.orders:
            parts.append(f"已有 {len(self.orders)} 个订单")
        if self.leads:
            parts.append(
                f"已有 {len(self.leads)} 个预约（{'、'.join(f'{x.number} {x.state.label}' for x in self.leads[:3])}）"
            )
        return "这个手机号" + "，".join(parts) if parts else ""


async def phone_hint(phone: str) -> PhoneHint:
    phone = normalize_phone(phone)
    if not is_mobile(phone):
        raise Invalid("手机号应为 11 位数字，以 1 开头", "phone")
    index = runtime().vault.blind_index(phone)
    orders = [
        str(n) for n in await Order.filter(customer__phone_index=index).order_by("-id").values_list("number", flat=True)
    ]
    leads = await Lead.filter(phone_index=index).order_by("-id").limit(5)
    customer = await Customer.filter(phone_index=index, erased_at__isnull=True).order_by("-id").first()
    name = customer.name if customer is not None else (leads[0].name if leads else "")
    return PhoneHint(orders=orders, leads=leads, customer_name=name)


# Taking a step

# Steps after which the consultant still holds the lead, and the title of the card with what comes next.
NEXT_CARD = {"claim": "正在服务", "arrive": "客户已到店", "pause": "预约已暂停，待再次领单"}


async def take(actor: Staff, lead: Lead, step: str, *, reason: str = "", to: Staff | None = None) -> Lead:
    """Take a row of the lead table by hand (every row but booking, assigning and 已成交, which is the
    order's creation). A reason is required where the table's row needs one, a colleague where it
    hands the lead on. Inside one transaction; a freed consultant gets the store's oldest queued lead."""
    if step not in LEAD or LEAD[step].automatic or step == "win":
        raise Invalid("没有这个操作")
    t = LEAD[step]
    reason = reason.strip()
    async with in_transaction():
        await lead.refresh_from_db()
        await LEAD.check(t, actor, lead)
        if step in NEEDS_REASON and not reason:
            raise Invalid("请填写原因", "reason")
        if len(reason) > 255:
            raise Invalid("原因请在 255 字以内", "reason")
        if step in NEEDS_CONSULTANT:
            to = await _colleague(lead, to, actor=actor if step == "transfer" else None)
        former = await Staff.get_or_none(id=lead.consultant_id) if lead.consultant_id else None
        if step in NEEDS_CONSULTANT and to is not None:
            if former is not None and former.id != to.id:
                await notify.lead_taken_away(lead, former, by=actor, label=f"{t.label}给{to.name}")
            kind = LeadEventKind.TRANSFERRED if step == "transfer" else LeadEventKind.REASSIGNED
            await give(lead, to, kind=kind, actor=actor, text=reason)
        else:
            values: dict[str, object] = {}
            if step == "reject":
                values = {"consultant_id": None, "assigned_at": None, "rejections": lead.rejections + 1}
            if t.target in (*DECIDED, LeadState.NO_SHOW, LeadState.VOID):
                values.update(decided_at=utcnow(), outcome_reason=reason)
            await LEAD.move(t, lead, **values)
            assert t.event is not None
            await LeadEvent.create(lead_id=lead.id, kind=LeadEventKind(t.event), actor=actor, staff=former, text=reason)
            if step in NEXT_CARD:
                # The consultant still holds it: the next card offers the steps the table allows from here.
                assert former is not None
                await notify.lead_moved(lead, former, title=NEXT_CARD[step], buttons=await card_buttons(lead, former))
            elif former is not None and former.id != actor.id:
                await notify.lead_taken_away(lead, former, by=actor, label=t.label)
        await fill_store(lead.store_id)
    await lead.refresh_from_db()
    return lead


async def return_leads(consultant: Staff) -> list[Lead]:
    """The consultant left the company: every lead they held goes back to its store's queue (the table's
    row `return`) and on to a free colleague. Inside the caller's transaction."""
    step = LEAD["return"]
    held = await Lead.filter(consultant_id=consultant.id, state__in=list(step.source)).order_by("id")
    for lead in held:
        await LEAD.move(step, lead, consultant_id=None, assigned_at=None)
        await LeadEvent.create(lead_id=lead.id, kind=LeadEventKind.RETURNED, actor=None, staff=consultant, text="离职")
    for store_id in sorted({lead.store_id for lead in held}):
        await fill_store(store_id)
    return held


async def _colleague(lead: Lead, to: Staff | None, *, actor: Staff | None) -> Staff:
    if to is None:
        raise Invalid("请选择销售顾问", "consultant")
    if to.id not in {c.id for c in await consultants_of(lead.store_id)}:
        raise Invalid(f"{to.name} 不是本门店的销售顾问", "consultant")
    if actor is not None and to.id == actor.id:
        raise Invalid("请选择其他同事", "consultant")
    return to


async def colleagues(lead: Lead, actor: Staff | None = None) -> list[Staff]:
    """Who the lead may go to (转给 / 改派): the store's consultants, less the one asking."""
    return [c for c in await consultants_of(lead.store_id) if actor is None or c.id != actor.id]


async def offered(actor: Staff, lead: Lead) -> list[Step]:
    return await LEAD.available(actor, lead)


# 已成交: the order made from the lead


async def lead_for_order(actor: Staff, number: str) -> Lead:
    """The lead an order is being made from: the consultant may take 已成交 on it now."""
    lead = await lead_for(actor, number)
    await LEAD.check(LEAD["win"], actor, lead)
    return lead


async def order_form(actor: Staff, lead: Lead) -> dict[str, list[str]]:
    """The new order's form filled from the lead: name, phone (the consultant holding it calls the
    customer), the products of interest (the store's prices apply), the note."""
    await LEAD.check(LEAD["win"], actor, lead)
    ids = [str(i) for i in lead.product_ids]
    return {
        "customer_name": [lead.name],
        "phone": [lead_phone(lead)],
        "product_id": ids,
        "room": [""] * len(ids),
        "quantity": ["1"] * len(ids),
        "note": [f"预约 {lead.number}" + (f"：{lead.products}" if lead.products else "")],
        "lead": [lead.number],
    }


async def won(*, actor: Staff, lead: Lead, order: Order) -> None:
    """Inside the order's creation: the lead is won and linked to the order; its consultant is free."""
    await LEAD.check(LEAD["win"], actor, lead)
    await LEAD.move(LEAD["win"], lead, order_id=order.id, decided_at=utcnow())
    await LeadEvent.create(lead_id=lead.id, kind=LeadEventKind.WON, actor=actor, staff=actor, text=order.number)
    await notify.lead_closed(lead, f"已成交：订单 {order.number}")
    await fill_store(lead.store_id)


# Lists


async def leads_for(actor: Staff, *, state: str = "", limit: int = 200) -> list[Lead]:
    """The leads a member may see: their own (a consultant) and their part of the company's (reception,
    managers), open first, newest first."""
    mine = await OrgUnit.get(id=actor.org_unit_id)
    query = Lead.all()
    if any(actor.has_role(r) for r in (Role.RECEPTION, Role.MANAGER, Role.ADMIN)):
        query = query.filter(store__path__startswith=mine.path)
    else:
        query = query.filter(consultant_id=actor.id)
    if state:
        query = query.filter(state=state)
    return await query.order_by("-id").limit(limit)


async def history(lead: Lead) -> list[tuple[LeadEvent, str, str]]:
    """The lead's events, oldest first: (event, who did it, whom it was about)."""
    events = await LeadEvent.filter(lead_id=lead.id).order_by("id")
    ids = {e.actor_id for e in events} | {e.staff_id for e in events}
    names = {s.id: s.name for s in await Staff.filter(id__in=[i for i in ids if i])}
    return [(e, names.get(e.actor_id or 0, "系统"), names.get(e.staff_id or 0, "")) for e in events]


EVENT_LABELS = {
    LeadEventKind.CREATED: "登记预约",
    LeadEventKind.ASSIGNED: "自动分配给",
    LeadEventKind.CLAIMED: "领单",
    LeadEventKind.REJECTED: "拒绝（退回）",
    LeadEventKind.TRANSFERRED: "转给",
    LeadEventKind.PAUSED: "暂停服务",
    LeadEventKind.ARRIVED: "到店",
    LeadEventKind.FOLLOW_UP: "需要回访",
    LeadEventKind.WON: "已成交",
    LeadEventKind.NOT_WON: "到店未成交",
    LeadEventKind.NO_SHOW: "未到店",
    LeadEventKind.VOIDED: "作废",
    LeadEventKind.REASSIGNED: "改派给",
}


# Conversion


async def conversion(unit: OrgUnit, start: date, end: date) -> tuple[list[ConversionLine], list[ConversionLine]]:
    """Per store and per consultant, over [start, end): leads received (booked in the period; a
    consultant's: those they hold), won, and the conversion rate won / decided (won or 到店未成交, decided in
    the period)."""
    since, until = local_moment(start), local_moment(end, time.min)
    booked = await Lead.filter(
        store__path__startswith=unit.path, created_at__gte=since, created_at__lt=until
    ).values_list("store_id", "consultant_id")
    outcomes = await Lead.filter(
        store__path__startswith=unit.path, state__in=list(DECIDED), decided_at__gte=since, decided_at__lt=until
    ).values_list("store_id", "consultant_id", "state")
    store_ids = {s for s, _ in booked} | {s for s, _, _ in outcomes}
    staff_ids = {c for _, c in booked if c} | {c for _, c, _ in outcomes if c}
    stores = {u.id: u.name for u in await OrgUnit.filter(id__in=list(store_ids))}
    people = {s.id: s.name for s in await Staff.filter(id__in=list(staff_ids))}

    def rows(key: int, names: dict[int, str]) -> list[ConversionLine]:
        result = []
        for ident, name in sorted(names.items(), key=lambda x: x[1]):
            result.append(
                ConversionLine(
                    name=name,
                    received=sum(1 for b in booked if b[key] == ident),
                    won=sum(1 for o in outcomes if o[key] == ident and o[2] == LeadState.WON),
                    decided=sum(1 for o in outcomes if o[key] == ident),
                )
            )
        return result

    return rows(0, stores), rows(1, people)


# CSV import


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    errors: list[str]  # 第 3 行：手机号应为 11 位数字


CSV_COLUMNS = ("store", "name", "phone", "need_level", "products", "wanted_at", "note")


async def import_leads(text: str, *, actor: Staff | None) -> ImportResult:
    """A CSV of bookings (`store,name,phone[,need_level,products,wanted_at,note]`, the store as
    `公司/区域/门店`, wanted_at as 2026-12-05 14:00): each good row is booked (and assigned); each bad row is
    reported by its line and left out. `actor` None: the command line."""
    if actor is not None:
        LEAD.check_role(BOOK, actor)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("store", "name", "phone") if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(f"CSV 缺少列：{'、'.join(missing)}（需要 {','.join(CSV_COLUMNS)}）")
    units = {u.id: u for u in await OrgUnit.all()}
    by_path = {_unit_name(u, units): u for u in units.values()}
    created, errors = [], []
    for row in reader:
        line = reader.line_num
        try:
            store = by_path.get((row.get("store") or "").strip())
            if store is None:
                raise Invalid(f"没有门店 {(row.get('store') or '').strip()[:40]}")
            store = await store_for(actor, store.id)
            wanted = _when((row.get("wanted_at") or "").strip())
            lead = await create_lead(
                actor=actor if actor is not None else _CLI,
                store=store,
                data=LeadInput(
                    name=row.get("name") or "",
                    phone=row.get("phone") or "",
                    need_level=(row.get("need_level") or "").strip(),
                    products=row.get("products") or "",
                    wanted_at=wanted,
                    note=row.get("note") or "",
                ),
                source=LeadSource.CSV,
            )
            created.append(lead.number)
        except (Invalid, NotAllowed, Conflict) as refused:
            errors.append(f"第 {line} 行：{refused.message}")
    return ImportResult(created=created, errors=errors)


def _unit_name(unit: OrgUnit, units: dict[int, OrgUnit]) -> str:
    names = []
    current: OrgUnit | None = unit
    while current is not None:
        names.append(current.name)
        current = units.get(current.parent_id) if current.parent_id else None
    return "/".join(reversed(names))


def _when(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"预约时间格式不正确：{text[:20]}（例如 2026-12-05 14:00）") from exc
    return local_moment(moment.date(), moment.time()) if moment.tzinfo is None else moment


# The command line books as reception would (whoever holds the server): a token never stored.
_CLI = ServiceToken(name="命令行", scopes="leads:write", secret_hash="")
