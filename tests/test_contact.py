"""Reaching the customer through WeCom customer contact (客户联系), through the emulator."""

from __future__ import annotations

import asyncio
import time

import pytest
from tortoise.transactions import in_transaction

from emulator.errors import WeComError
from models import CallState, ContactWay, CustomerMessage, EventKind, ExternalContact, OrderEvent, OrderState, Staff
from tests.support import World
from tests.test_permissions import at_state
from workflow import notify
from workflow.contact import request_contact_way, send_milestone
from workflow.customer_link import customer_page_url
from workflow.customer_reach import Milestone
from workflow.errors import NotAllowed

SALES = "zhangxiaoshou"


async def until(world: World, check, within: float = 10.0):  # type: ignore[no-untyped-def]
    """Wait for an effect, waking Relay's loops; never a fixed sleep."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        assert world.services.customer_calls is not None
        world.services.customer_calls.wake()
        world.services.inbox.wake()
        world.services.outbox.wake()
        await asyncio.sleep(0.02)
    raise AssertionError("not in time")


async def bound_order(world: World, number: str):  # type: ignore[no-untyped-def]
    order = await at_state(number, OrderState.CREATED)
    sales = await Staff.get(userid=SALES)
    async with in_transaction():
        await request_contact_way(actor=sales, order=order)

    async def ready() -> ContactWay | None:
        return await ContactWay.get_or_none(order_id=order.id, call_state=CallState.DONE)

    way = await until(world, ready)
    emulated = world.emu.contact.ways[way.config_id]
    assert emulated.state == way.state_key and len(way.state_key) <= 30 and emulated.user == SALES
    await world.settle()
    assert any("二维码已生成" in t for t in world.texts(SALES))
    added, result = await world.emu.customer_adds(way.config_id, "黄女士")
    assert result.ok and added.welcome_code

    async def bound() -> bool:
        return await ExternalContact.exists(external_userid=added.external_userid, order_id=order.id)

    await until(world, bound)
    await world.settle()
    return order, added


async def test_contact_way_binds_the_customer_and_welcomes_them_with_the_order_link(world: World) -> None:
    order, added = await bound_order(world, "CT0001")

    async def welcomed():  # type: ignore[no-untyped-def]
        return world.emu.customer_received(added.external_userid)

    received = await until(world, welcomed)
    assert received[0].kind == "welcome"
    assert received[0].attachments[0]["link"]["url"] == customer_page_url(order)
    contact = await ExternalContact.get(external_userid=added.external_userid)
    assert contact.customer_id == order.customer_id and contact.order_id == order.id
    assert contact.welcome_state == CallState.DONE
    assert await OrderEvent.filter(order_id=order.id, kind=EventKind.CONTACT_ADDED).exists()
    await world.settle()
    assert any("添加你的企业微信" in t for t in world.texts(SALES))
    # The code is spent: WeCom refuses a second use (41051), as the emulator does.
    with pytest.raises(WeComError, match="41051"):
        world.emu.contact.send_welcome_msg({"welcome_code": added.welcome_code, "text": {"content": "again"}})
    # Added again (they have chatted): no welcome code, still bound, nothing sent twice.
    way = await ContactWay.get(order_id=order.id)
    again, result = await world.emu.customer_adds(way.config_id, "黄女士", external_userid=added.external_userid)
    assert result.ok and not again.welcome_code
    await world.settle()
    assert len(world.emu.customer_received(added.external_userid)) == 1


async def test_milestones_go_as_mass_sends_within_the_monthly_limit(world: World) -> None:
    order, added = await bound_order(world, "CT0002")
    sales = await Staff.get(userid=SALES)

    async def milestone(step: Milestone) -> None:
        async with in_transaction():
            await notify.customer_milestone(order, step.value)
        await world.settle()

    for sent, step in enumerate((Milestone.MEASURE_BOOKED, Milestone.DESIGNED, Milestone.ARRIVED), start=1):
        await milestone(step)
        card = world.card(SALES, f"通知客户：{step.label}")
        await world.tap(SALES, card, "发给客户")

        async def created() -> list:  # type: ignore[type-arg]
            return world.emu.pending_mass_sends(SALES)

        task = (await until(world, created))[0]
        assert task.external_userids == [added.external_userid] and customer_page_url(order) in task.text
        world.emu.member_confirms_mass_send(SALES, task.msgid)
        mass = [r for r in world.emu.customer_received(added.external_userid) if r.kind == "mass"]
        assert len(mass) == sent
    # An ordinary milestone may not take the month's last slot: the card says why, with the text to copy.
    await milestone(Milestone.VISIT)
    card = world.card(SALES, f"通知客户：{Milestone.VISIT.label}")
    assert "仅剩1条" in str(card.card) and "发给客户" not in card.button_texts
    # Install booked may: the fourth.
    await milestone(Milestone.INSTALL_BOOKED)
    await world.tap(SALES, world.card(SALES, f"通知客户：{Milestone.INSTALL_BOOKED.label}"), "发给客户")

    async def fourth() -> list:  # type: ignore[type-arg]
        return world.emu.pending_mass_sends(SALES)

    world.emu.member_confirms_mass_send(SALES, (await until(world, fourth))[0].msgid)
    # The fifth in the month creates no task: the card says why.
    await milestone(Milestone.INSTALLED)
    card = world.card(SALES, f"通知客户：{Milestone.INSTALLED.label}")
    assert "最多4条" in str(card.card) and "发给客户" not in card.button_texts
    assert await CustomerMessage.filter(customer_id=order.customer_id, slot__isnull=False).count() == 4
    assert len(world.emu.contact.tasks) == 4
    with pytest.raises(NotAllowed):
        async with in_transaction():
            await send_milestone(actor=sales, order=order, milestone=Milestone.INSTALLED)
    # Someone who is not the order's salesperson is refused.
    other = await Staff.get(userid="lixiaoshou")
    with pytest.raises(NotAllowed):
        async with in_transaction():
            await send_milestone(actor=other, order=order, milestone=Milestone.INSTALL_BOOKED)
