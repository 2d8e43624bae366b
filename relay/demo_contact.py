"""The demo's customer contact (客户联系): 张晓燕's 「联系我」 QR code for LS20261102, asked of the emulator
when the demo starts, so the console's 客户联系 panel can play the customer scanning it."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import Order, Staff
from workflow.contact import request_contact_way

DEMO_CONTACT_ORDER = "LS20261102"


async def seed_contact() -> None:
    order = await Order.get_or_none(number=DEMO_CONTACT_ORDER)
    if order is None:
        return
    sales = await Staff.get(id=order.sales_id)
    async with in_transaction():
        await request_contact_way(actor=sales, order=order)
