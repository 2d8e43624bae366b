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
from workflow.attachments import attach
from workflow.errors import Invalid
from workflow.items import ItemInput, check_items, write_items
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER
from workflow.scope import ORDER_NUMBER_RE
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
    """Create the order; the paper order's photo is checked and stored only once the rest is valid."""
    step = ORDER["create_order"]
    ORDER.check_role(step, actor)
    number = number.strip().upper()
    customer_name = customer_name.strip()
    address = address.strip()
    phone = normalize_phone(phone)
    if not ORDER_NUMBER_RE.match(number):
        raise Invalid("订单号只能包含字母、数字和短横线，最多 32 位", "number")
    if not customer_name or len(customer_name) > 64:
        raise Invalid("请填写客户姓名（64 字以内）", "customer_name")
    if not is_mobile(phone):
        raise Invalid("手机号应为 11 位数字，以 1 开头", "phone")
    if not address or len(address) > 255:
        raise Invalid("请填写地址（255 字以内）", "address")
    if expected_measure_date is not None and expected_measure_date < local_today():
        raise Invalid("期望测量日期不能早于今天", "expected_measure_date")
    products = await check_items(items)
    if await Order.filter(number=number).exists():
        raise Invalid(f"订单号 {number} 已存在，请核对纸质订单编号", "number")

    vault = runtime().vault
    try:
        photo = await runtime().files.put_image(paper_photo) if paper_photo else None
    except RejectedFile as refused:
        raise Invalid(refused.message, "paper_photo") from None
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
