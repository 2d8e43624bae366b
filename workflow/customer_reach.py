"""What Relay may say to a customer, and whether it may go to their WeChat now. Queries only: the
actions are in workflow/contact.py, the cards in workflow/notify.py (which reads this module).

Milestones and the monthly budget. WeCom lets a company's mass-sends (企业群发, add_msg_template) reach
a customer at most `contact.mass_send_per_month` (4) times per natural month; beyond that the customer
receives none (92135). Every milestone gives the salesperson a card with the prepared message; 发给客户
takes one of the customer's slots for the month (Asia/Shanghai), numbered 1..4 and unique per customer
and month in the database, so the budget is never exceeded, even by two taps at once. The milestones
that need the customer to act (安装预约: be home; 安装完成: please sign) may use every slot; the others
stop while `contact.reserved_for_key_milestones` (1) is left. A refused card says why and keeps the
text to copy (and the 联系我 QR code, or SMS where configured).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from infra.runtime import runtime
from infra.timeutil import LOCAL_TZ, utcnow
from models import CallState, CustomerMessage, ExternalContact, Order, Staff, TaskKind
from models.orders import Task


class Milestone(StrEnum):
    MEASURE_BOOKED = "measure_booked"
    MEASURE_CHANGED = "measure_changed"
    DESIGNED = "designed"
    ARRIVED = "arrived"
    INSTALL_BOOKED = "install_booked"
    INSTALLED = "installed"
    VISIT = "visit"

    @property
    def label(self) -> str:
        return MILESTONE_LABELS[self]

    @property
    def key(self) -> bool:
        """The customer must act on it: it may use the last slots of the month."""
        return self in (Milestone.INSTALL_BOOKED, Milestone.INSTALLED)


MILESTONE_LABELS = {
    Milestone.MEASURE_BOOKED: "已预约测量",
    Milestone.MEASURE_CHANGED: "测量改期",
    Milestone.DESIGNED: "设计完成",
    Milestone.ARRIVED: "货已到齐",
    Milestone.INSTALL_BOOKED: "已预约安装",
    Milestone.INSTALLED: "安装完成请签字",
    Milestone.VISIT: "售后回访",
}

# The states a milestone's message still makes sense in: a tap on an old card for a later state is refused.
NO_CONTACT = "客户还没有添加你的企业微信"


def month_of(moment: datetime | None = None) -> str:
    return (moment or utcnow()).astimezone(LOCAL_TZ).strftime("%Y-%m")


async def _date_of(order: Order, kind: TaskKind) -> str:
    task = await Task.filter(order_id=order.id, kind=kind).order_by("-id").first()
    return f"{task.scheduled_date:%m月%d日}" if task is not None else "待定"


async def message_text(order: Order, milestone: Milestone, link: str) -> str:
    """The prepared message, in the customer's words."""
    number = order.number
    if milestone in (Milestone.MEASURE_BOOKED, Milestone.MEASURE_CHANGED):
        day = await _date_of(order, TaskKind.MEASURE)
        verb = "已预约" if milestone is Milestone.MEASURE_BOOKED else "已改到"
        body = f"您的订单 {number} 测量{verb} {day} 上门，师傅出发前会和您联系。"
    elif milestone is Milestone.DESIGNED:
        body = f"您的订单 {number} 设计已完成，销售顾问会和您约时间确认方案。"
    elif milestone is Milestone.ARRIVED:
        body = f"您的订单 {number} 货已到齐，我们会尽快和您预约安装时间。"
    elif milestone is Milestone.INSTALL_BOOKED:
        body = f"您的订单 {number} 安装已预约 {await _date_of(order, TaskKind.INSTALL)}，请当天留人在家。"
    elif milestone is Milestone.INSTALLED:
        body = f"您的订单 {number} 已安装完成，请打开订单页查看安装照片并签字确认。"
    else:
        body = f"感谢您选择我们！订单 {number} 如有任何问题，欢迎随时联系。"
    return f"{body}\n订单进度：{link}"


async def contact_for(order: Order) -> ExternalContact | None:
    """The customer's WeChat as the order's salesperson's external contact, if they added them."""
    return (
        await ExternalContact.filter(customer_id=order.customer_id, member_id=order.sales_id)
        .order_by("-added_at")
        .first()
    )


async def slots_used(customer_id: int, month: str) -> int:
    return await CustomerMessage.filter(customer_id=customer_id, month=month, slot__isnull=False).count()


def budget_text(used: int) -> str:
    limit = runtime().config.contact.mass_send_per_month
    return f"已用 {min(used, limit)}/{limit} 条"


async def refusal(order: Order, milestone: Milestone, sender: Staff) -> str | None:
    """Why this milestone's message cannot go to the customer's WeChat now; None when it can. (Who may
    send at all is the order table's contact_customer row, checked by workflow/contact.py.)"""
    contact = await contact_for(order)
    if contact is None:
        return NO_CONTACT
    config = runtime().config.contact
    used = await slots_used(order.customer_id, month_of())
    if used >= config.mass_send_per_month:
        return f"本月已群发{used}条，每月最多{config.mass_send_per_month}条"
    left = config.mass_send_per_month - used
    if not milestone.key and left <= config.reserved_for_key_milestones:
        return f"本月仅剩{left}条，留给预约安装和签字"
    return None


def sms_configured(template: str = "milestone") -> bool:
    sms = runtime().config.sms
    return bool(sms.provider) and template in sms.templates


UNFINISHED = (CallState.QUEUED, CallState.SENDING)
