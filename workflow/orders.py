"""Creating an order (销售开单), a copy of one, and correcting its customer's details."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.security import is_mobile, mask_phone, normalize_phone
from infra.storage import RejectedFile
from infra.timeutil import local_today
from models import AttachmentCategory, Customer, EventKind, Lead, Order, OrderItem, OrgUnit, Staff
from models.flows import MEASURE
from workflow import fields, notify, timeline
from workflow.approval import review_prices
from workflow.attachments import attach
from workflow.errors import Invalid
from workflow.fields import check_fields
from workflow.items import ItemInput, check_items, priced_lines, write_items
from workflow.lead_lifecycle import LEAD
from workflow.leads import won as lead_won
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER
from workflow.pricing import prices_for, store_totals, totals
from workflow.privacy import phone_of
from workflow.tasks import notify_dispatchers


async def create_order(
    *,
    actor: Staff,
    number: str,
    customer_name: str,
    phone: str,
    address: str,
    items: list[ItemInput],
    expected_measure_date: date | None,
    note: str = "",
    paper_photo: bytes | None = None,
    copied_from: Order | None = None,
    order_discount: Decimal | None = None,
    lead: Lead | None = None,
) -> Order:
    """Create the order. Every wrong field is refused at once (one Invalid naming them all); the paper
    order's photo is checked and stored even when other fields are wrong, so that the form can keep it
    for the corrected submit, and attached only with the order.
    `copied_from`: the order it was copied from (its customer and items, not its history).
    Each line takes its price from workflow/pricing.py (the list covering the seller's store today),
    less what sales gave off it; `order_discount` is an amount off the whole order.
    `lead`: the showroom booking the order is made from (已成交): won and linked in the same transaction."""
    step = ORDER["create_order"]
    ORDER.check_role(step, actor)
    if lead is not None:
        await LEAD.check(LEAD["win"], actor, lead)
    if copied_from is not None and not phone.strip():
        # A copy's form shows the phone masked: left blank, it is the copied customer's.
        phone = phone_of(await Customer.get(id=copied_from.customer_id))
    errors = check_fields(
        fields.NEW_ORDER, {"number": number, "customer_name": customer_name, "phone": phone, "address": address}
    )
    number = number.strip().upper()
    customer_name = customer_name.strip()
    address = address.strip()
    phone = normalize_phone(phone)
    if "phone" not in errors and not is_mobile(phone):
        errors["phone"] = fields.PHONE.mismatch
    rule = fields.EXPECTED_MEASURE_DATE
    if late := rule.check(expected_measure_date, earliest=local_today()):
        errors[rule.name] = late
    lines = []
    try:
        products = await check_items(items)
        prices = await prices_for(unit=await OrgUnit.get(id=actor.org_unit_id), on=local_today(), product_ids=products)
        lines = priced_lines(items, products, prices)
    except Invalid as refused:
        errors["items"] = refused.message
    if "items" not in errors:
        try:
            totals(lines, order_discount)
        except Invalid as refused:
            errors[refused.field or "order_discount"] = refused.message
    if "number" not in errors and await Order.filter(number=number).exists():
        errors["number"] = f"订单号 {number} 已存在，请核对纸质订单编号"

    photo = None
    try:
        photo = await runtime().files.put_image(paper_photo) if paper_photo else None
    except RejectedFile as refused:
        errors["paper_photo"] = refused.message
    if errors:
        raise Invalid.several(errors)
    async with in_transaction():
        customer = await _customer(customer_name, phone)
        try:
            order = await Order.create(
                number=number,
                customer=customer,
                address=address,
                sales=actor,
                org_unit_id=actor.org_unit_id,
                expected_measure_date=expected_measure_date,
                note=note.strip()[:2000],
            )
        except IntegrityError as exc:
            raise Invalid(f"订单号 {number} 已存在，请核对纸质订单编号", "number") from exc
        await store_totals(order, await write_items(order, lines), order_discount)
        if photo is not None:
            await attach(order, photo, category=AttachmentCategory.PAPER_ORDER, uploader=actor, filename="纸质订单")
        await apply(step, actor=actor, order=order, event={"number": number})
        if copied_from is not None:
            await timeline.record(order, actor, EventKind.COPIED, source=copied_from.number)
        await review_prices(actor=actor, order=order, after_confirmation=False)
        await notify_dispatchers(MEASURE, order)
        if lead is not None:
            await lead_won(actor=actor, lead=lead, order=order)
    return order


def _customer_fields(name: str, phone: str, address: str) -> tuple[str, str, str]:
    name, address, phone = name.strip(), address.strip(), normalize_phone(phone)
    if not name or len(name) > 64:
        raise Invalid("请填写客户姓名（64 字以内）", "customer_name")
    if not is_mobile(phone):
        raise Invalid("手机号应为 11 位数字，以 1 开头", "phone")
    if not address or len(address) > 255:
        raise Invalid("请填写地址（255 字以内）", "address")
    return name, phone, address


async def _customer(name: str, phone: str) -> Customer:
    """The customer with this name and phone (found by the phone's blind index), or a new one."""
    vault = runtime().vault
    index = vault.blind_index(phone)
    customer = await Customer.filter(phone_index=index, name=name).first()
    if customer is None:
        customer = await Customer.create(name=name, phone_encrypted=vault.encrypt(phone), phone_index=index)
    return customer


async def edit_customer(
    *, actor: Staff, order: Order, customer_name: str, phone: str, address: str, reason: str
) -> Order:
    """Correct the customer's name, phone or address. The order moves to the customer with the new
    name and phone (its blind index with it: a search finds the order by the new phone, not the old);
    a customer left with no order is deleted, not kept. A blank phone keeps the number on file: the form
    shows it masked, as the full number is only for who must call the customer."""
    step = ORDER["edit_customer"]
    await ORDER.check(step, actor, order)
    old = await Customer.get(id=order.customer_id)
    name, phone, address = _customer_fields(customer_name, phone.strip() or phone_of(old), address)
    reason = reason.strip()
    vault = runtime().vault
    changed = [
        label
        for label, differs in (
            ("姓名", name != old.name),
            ("电话", vault.blind_index(phone) != old.phone_index),
            ("地址", address != order.address),
        )
        if differs
    ]
    if not changed:
        raise Invalid("客户信息没有改动")
    if not reason:
        raise Invalid("请填写修改原因", "reason")
    async with in_transaction():
        customer = old if changed == ["地址"] else await _customer(name, phone)
        await apply(
            step,
            actor=actor,
            order=order,
            event={"changed": "、".join(changed), "reason": reason},
            customer_id=customer.id,
            address=address,
        )
        if customer.id != old.id and not await Order.filter(customer_id=old.id).exists():
            await old.delete()
        await notify.customer_edited(order, by=actor, text=f"修改了客户{'、'.join(changed)}：{reason}")
    return order


async def copy_of(order: Order) -> dict[str, list[str]]:
    """A new order's form filled from this one: its customer and items (not its number, dates or history).
    The phone is left blank, shown masked: create_order takes the copied customer's when it stays blank."""
    customer = await Customer.get(id=order.customer_id)
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    return {
        "customer_name": [customer.name],
        "phone": [""],
        "phone_masked": [mask_phone(phone_of(customer))],
        "address": [order.address],
        "product_id": [str(i.product_id or "") for i in items],
        "room": [i.room for i in items],
        "quantity": [str(i.quantity) for i in items],
        "note": [order.note],
        "copied_from": [order.number],
    }
