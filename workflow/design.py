"""Design (设计): the designer uploads the design files and marks design done; sales is told."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from bot.outbox import enqueue_message
from cards.lifecycle import design_done_card
from infra.runtime import runtime
from infra.storage import StoredFile
from models import Attachment, AttachmentCategory, Order, OrderState, Role, Staff
from workflow import timeline
from workflow.attachments import attach
from workflow.errors import Conflict, Invalid, NotAllowed
from workflow.scope import covers, require_role
from workflow.selectors import order_view
from workflow.transitions import move


async def _check_designer(actor: Staff, order: Order) -> None:
    require_role(actor, Role.DESIGNER)
    if not await covers(actor, order):
        raise NotAllowed(f"订单 {order.number} 不在你负责的范围内")
    if order.state != OrderState.MEASURED:
        raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}，不能上传设计")


async def add_design(*, actor: Staff, order: Order, stored: StoredFile, filename: str) -> Attachment:
    await _check_designer(actor, order)
    async with in_transaction():
        design = await attach(order, stored, category=AttachmentCategory.DESIGN, uploader=actor, filename=filename)
        await timeline.record(order, actor, "design_added", attachment=design.id, filename=design.filename)
    return design


async def finish_design(*, actor: Staff, order: Order) -> Order:
    await _check_designer(actor, order)
    files = await Attachment.filter(order_id=order.id, category=AttachmentCategory.DESIGN).count()
    if not files:
        raise Invalid("还没有上传设计文件")
    async with in_transaction():
        if not await move(order, to=OrderState.DESIGNED, expected=OrderState.MEASURED):
            raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}")
        await order.refresh_from_db()
        await timeline.record(order, actor, "designed", files=files)
        sales = await Staff.get(id=order.sales_id)
        await enqueue_message(
            design_done_card(sales.userid, await order_view(order), files=files, links=runtime().links)
        )
    return order
