"""Creating an order (销售开单)."""

from __future__ import annotations

from datetime import date

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.security import is_mobile, normalize_phone
from infra.storage import RejectedFile
from infra.timeutil import local_today
from models import AttachmentCategory, Customer, Order, Staff
from models.flows import MEASURE
from workflow import fields
from workflow.attachments import attach
from workflow.errors import Invalid
from workflow.fields import check_fields
from workflow.items import ItemInput, check_items, write_items
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER
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
) -> Order:
    """Create the order. Every wrong field is refused at once (one Invalid naming them all); the paper
    order's photo is checked and stored even when other fields are wrong, so that the form can keep it
    for the corrected submit, and attached only with the order."""
    step = ORDER["create_order"]
    ORDER.check_role(step, actor)
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
    try:
        products = await check_items(items)
    except Invalid as refused:
        errors["items"] = refused.message
    if "number" not in errors and await Order.filter(number=number).exists():
        errors["number"] = f"订单号 {number} 已存在，请核对纸质订单编号"

    vault = runtime().vault
    photo = None
    try:
        photo = await runtime().files.put_image(paper_photo) if paper_photo else None
    except RejectedFile as refused:
        errors["paper_photo"] = refused.message
    if errors:
        raise Invalid.several(errors)
    async with in_transaction():
        index = vault.blind_index(phone)
        customer = await Customer.filter(phone_index=index, name=customer_name).first()
        if customer is None:
            customer = await Customer.create(
                name=customer_name, phone_encrypted=vault.encrypt(phone), phone_index=index
            )
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
        await write_items(order, items, products)
        if photo is not None:
            await attach(order, photo, category=AttachmentCategory.PAPER_ORDER, uploader=actor, filename="纸质订单")
        await apply(step, actor=actor, order=order, event={"number": number})
        await notify_dispatchers(MEASURE, order)
    return order
