"""Reaching the customer in WeChat (客户联系): the order's 「联系我」 QR code, binding the customer who
adds the salesperson through it, the welcome message, and milestone messages as mass-send tasks.

The WeCom calls themselves run after commit in scheduler/contact.py: this module writes the rows that
ask for them (in the caller's transaction) and takes their results.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError

from bot.events import ExternalContactAdded
from infra.timeutil import utcnow
from models import CallState, ContactWay, CustomerMessage, EventKind, ExternalContact, Order, Staff
from models.orders import Customer
from workflow import notify, timeline
from workflow.customer_link import customer_page_url
from workflow.customer_reach import Milestone, contact_for, message_text, month_of, refusal, slots_used
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.order_lifecycle import ORDER

log = logging.getLogger(__name__)

WELCOME_SECONDS = 20  # send_welcome_msg: within 20 s of the event, once (92137)
# Leave room for the call itself: a code this close to its end is not used.
WELCOME_MARGIN = timedelta(seconds=2)
CONTACT_STEP = "contact_customer"


def state_key(order: Order, member: Staff) -> str:
    """The way's `state`: which order and salesperson (≤ 30 characters, 92228)."""
    key = f"relay-o{order.id}-m{member.id}"
    assert len(key) <= 30
    return key


async def request_contact_way(*, actor: Staff, order: Order) -> ContactWay:
    """The salesperson's 「联系我」 QR code for this order: asked of WeCom after commit, once per order and
    salesperson (a failed one is asked again)."""
    await ORDER.check(ORDER[CONTACT_STEP], actor, order)
    existing = await ContactWay.filter(order_id=order.id, member_id=actor.id).first()
    if existing is not None and existing.call_state != CallState.FAILED:
        return existing
    if existing is not None:
        await existing.delete()
    return await ContactWay.create(
        order=order, member=actor, state_key=state_key(order, actor), next_attempt_at=utcnow()
    )


async def contact_way_of(order: Order, member: Staff) -> ContactWay | None:
    return await ContactWay.filter(order_id=order.id, member_id=member.id).first()


async def contact_way_done(way_id: int, *, config_id: str, qr_code: str) -> None:
    way = await ContactWay.get(id=way_id)
    way.config_id, way.qr_code, way.call_state, way.last_error = config_id, qr_code, CallState.DONE, ""
    await way.save(update_fields=["config_id", "qr_code", "call_state", "last_error"])
    order, member = await Order.get(id=way.order_id), await Staff.get(id=way.member_id)
    await notify.contact_way_ready(order, member)


async def contact_way_failed(way_id: int, *, error: str) -> None:
    await ContactWay.filter(id=way_id).update(call_state=CallState.FAILED, last_error=error[:500], locked_until=None)
    way = await ContactWay.get(id=way_id)
    order, member = await Order.get(id=way.order_id), await Staff.get(id=way.member_id)
    await notify.contact_way_failed(order, member, error=error)


async def customer_added(event: ExternalContactAdded) -> ExternalContact | None:
    """add_external_contact: bind the customer to the order the way's `state` names, record it, and ask
    for the welcome (sent after commit, at once: the code lasts 20 s). An add through any other way, or
    to another member than the way's, binds nothing."""
    way = await ContactWay.get_or_none(state_key=event.state) if event.state else None
    member = await Staff.get_or_none(userid=event.member)
    if way is None or member is None or way.member_id != member.id:
        log.info("add_external_contact for an unknown or foreign state: nothing to bind")
        return None
    order = await Order.get(id=way.order_id)
    customer = await Customer.get(id=order.customer_id)
    contact = await ExternalContact.get_or_none(external_userid=event.external_userid, member_id=member.id)
    if contact is None:
        contact = await ExternalContact.create(
            external_userid=event.external_userid, member=member, customer=customer, order=order
        )
    else:
        contact.customer_id, contact.order_id = customer.id, order.id
        await contact.save(update_fields=["customer_id", "order_id"])
    if event.welcome_code:
        sent = datetime.fromtimestamp(event.create_time, UTC) if event.create_time else utcnow()
        link = customer_page_url(order)
        contact.welcome_code = event.welcome_code
        contact.welcome_deadline = min(sent, utcnow()) + timedelta(seconds=WELCOME_SECONDS) - WELCOME_MARGIN
        contact.welcome_state = CallState.QUEUED
        contact.welcome_payload = {
            "text": {
                "content": f"您好，我是{member.name}，您的订单 {order.number} 由我负责。订单进度随时可在这里查看："
            },
            "attachments": [
                {
                    "msgtype": "link",
                    "link": {
                        "title": f"订单 {order.number} 进度",
                        "desc": "测量、设计、安装、签字，一目了然",
                        "url": link,
                    },
                }
            ],
        }
        welcome = "正在发送欢迎语和订单链接"
    else:
        contact.welcome_state, contact.welcome_code = CallState.DONE, ""
        welcome = "此前已联系过，没有欢迎语"
    await contact.save()
    await timeline.record(order, None, EventKind.CONTACT_ADDED, member=member.name, welcome=welcome)
    await notify.customer_added(order, member, welcome_queued=bool(event.welcome_code))
    return contact


async def welcome_failed(contact_id: int, *, error: str) -> None:
    contact = await ExternalContact.get(id=contact_id)
    if contact.order_id is None:
        return
    order, member = await Order.get(id=contact.order_id), await Staff.get(id=contact.member_id)
    await notify.welcome_failed(order, member, error=error, link=customer_page_url(order))


async def send_milestone(*, actor: Staff, order: Order, milestone: Milestone) -> CustomerMessage:
    """发给客户: the milestone's message as a mass-send task the salesperson confirms in WeCom, taking one
    of the customer's slots this month. Refused (with why) when it cannot go."""
    await ORDER.check(ORDER[CONTACT_STEP], actor, order)
    why = await refusal(order, milestone, actor)
    if why is not None:
        raise NotAllowed(why)
    contact = await contact_for(order)
    assert contact is not None
    month = month_of()
    link = customer_page_url(order)
    text = await message_text(order, milestone, link)
    slot = await slots_used(order.customer_id, month) + 1
    try:
        message = await CustomerMessage.create(
            order=order,
            customer_id=order.customer_id,
            sender=actor,
            external_userid=contact.external_userid,
            milestone=milestone.value,
            text=text,
            link=link,
            month=month,
            slot=slot,
            next_attempt_at=utcnow(),
        )
    except IntegrityError:
        raise Conflict("本月名额刚被另一条群发占用，请重新点击", "名额已变化") from None
    await timeline.record(order, actor, EventKind.CUSTOMER_MESSAGED, milestone=milestone.label)
    return message


async def mass_send_done(message_id: int, *, msgid: str, refused: bool) -> None:
    message = await CustomerMessage.get(id=message_id)
    order, sender = await Order.get(id=message.order_id), await Staff.get(id=message.sender_id)
    if refused:  # WeCom put the customer in fail_list: not their contact (any more); nothing will go out
        await CustomerMessage.filter(id=message_id).update(
            call_state=CallState.FAILED, slot=None, msgid=msgid, last_error="客户不在你的企业微信客户中"
        )
        await notify.mass_send_result(order, sender, ok=False, why="客户已不在你的企业微信客户中，请复制文字发送")
        return
    await CustomerMessage.filter(id=message_id).update(call_state=CallState.DONE, msgid=msgid, last_error="")
    await notify.mass_send_result(order, sender, ok=True, why="")


async def mass_send_failed(message_id: int, *, error: str, unknown: bool) -> None:
    """WeCom refused (nothing was created: the slot is freed), or the outcome is unknown (the slot stays
    taken, and it is never tried again: a second task could reach the customer twice)."""
    message = await CustomerMessage.get(id=message_id)
    order, sender = await Order.get(id=message.order_id), await Staff.get(id=message.sender_id)
    if unknown:
        await CustomerMessage.filter(id=message_id).update(call_state=CallState.UNKNOWN, last_error=error[:500])
        why = "企业微信没有答复，任务可能已创建：请在企业微信“群发助手”中查看，Relay 不会重复创建"
    else:
        await CustomerMessage.filter(id=message_id).update(
            call_state=CallState.FAILED, slot=None, last_error=error[:500]
        )
        why = f"企业微信拒绝了群发任务（{error[:60]}），请复制文字发送"
    await notify.mass_send_result(order, sender, ok=False, why=why)


async def order_for_tap(actor: Staff, order_id: int) -> Order:
    order = await Order.get_or_none(id=order_id)
    if order is None:
        raise NotFound("订单不存在")
    return order


def parse_milestone(value: str) -> Milestone:
    try:
        return Milestone(value)
    except ValueError:
        raise Invalid("这个按钮已失效") from None
