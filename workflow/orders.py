"""Creating an order (销售开单)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AttachmentCategory, Customer, Order, OrderItem, Product, Role, Staff
from relay.runtime import runtime
from relay.security import is_mobile, normalize_phone
from relay.timeutil import local_today
from workflow import timeline
from workflow.attachments import attach
from workflow.errors import Invalid
from workflow.flows import MEASURE
from workflow.scope import require_role
from workflow.tasks import notify_dispatchers

ORDER_NUMBER_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,31}$")
MAX_ITEMS = 50


@dataclass(frozen=True)
class ItemInput:
    product_id: int
    room: str = ""
    quantity: int = 1


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
    require_role(actor, Role.SALES)
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
    if not items:
        raise Invalid("请至少选择一件产品", "items")
    if len(items) > MAX_ITEMS:
        raise Invalid(f"一张订单最多 {MAX_ITEMS} 件产品", "items")
    if expected_measure_date is not None and expected_measure_date < local_today():
        raise Invalid("期望测量日期不能早于今天", "expected_measure_date")
    products = {p.id: p for p in await Product.filter(id__in=[i.product_id for i in items], active=True)}
    for item in items:
        if item.product_id not in products:
            raise Invalid("所选产品不存在或已下架，请刷新后重选", "items")
        if not 1 <= item.quantity <= 99:
            raise Invalid("产品数量应在 1 到 99 之间", "items")
        if len(item.room) > 64:
            raise Invalid("房间名称最多 64 字", "items")
    if await Order.filter(number=number).exists():
        raise Invalid(f"订单号 {number} 已存在，请核对纸质订单编号", "number")

    vault = runtime().vault
    photo = await runtime().files.put_image(paper_photo) if paper_photo else None
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
        for item in items:
            product = products[item.product_id]
            await OrderItem.create(
                order=order,
                product=product,
                series=product.series,
                model=product.model,
                room=item.room.strip(),
                quantity=item.quantity,
            )
        if photo is not None:
            await attach(order, photo, category=AttachmentCategory.PAPER_ORDER, uploader=actor, filename="纸质订单")
        await timeline.record(order, actor, "created", number=number)
        await notify_dispatchers(MEASURE, order)
    return order
