"""Reaching the customer through WeCom customer contact (客户联系), through the emulator."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from tortoise.transactions import in_transaction

from emulator import FaultKind
from emulator.errors import WeComError
from models import CallState, ContactWay, CustomerMessage, EventKind, ExternalContact, OrderEvent, OrderState, Staff
from tests.support import World
from tests.test_permissions import at_state
from workflow import notify
from workflow.contact import request_contact_way, send_milestone
from workflow.customer_link import customer_page_url
from workflow.customer_reach import Milestone
from workflow.errors import NotAllowed
from workflow.privacy import erase_customer

SALES = "zhangxiaoshou"


def page_of(order: object) -> str:
    """The customer's page link up to its signing time (itsdangerous: payload.timestamp.signature)."""
    return customer_page_url(order).rsplit(".", 2)[0]  # type: ignore[arg-type]


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
    assert received[0].attachments[0]["link"]["url"].startswith(page_of(order))

    async def sent() -> ExternalContact | None:
        return await ExternalContact.get_or_none(external_userid=added.external_userid, welcome_state=CallState.DONE)

    contact = await until(world, sent)
    assert contact.customer_id == order.customer_id and contact.order_id == order.id
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
    # Erased at the customer's request (PIPL): the binding to their WeChat goes with the rest.
    await erase_customer(actor=await Staff.get(userid="wangzong"), customer_id=order.customer_id)
    assert not await ExternalContact.exists(customer_id=order.customer_id)


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
        assert task.external_userids == [added.external_userid] and page_of(order) in task.text
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


async def test_a_welcome_code_past_its_20_seconds_or_already_used(world: World) -> None:
    sales = await Staff.get(userid=SALES)

    async def way_for(number: str) -> ContactWay:
        order = await at_state(number, OrderState.CREATED)
        async with in_transaction():
            await request_contact_way(actor=sales, order=order)

        async def ready() -> ContactWay | None:
            return await ContactWay.get_or_none(order_id=order.id, call_state=CallState.DONE)

        return await until(world, ready)

    # Expired: the first send meets a server error; by the retry the code is past its 20 s.
    way = await way_for("CT0003")
    world.emu.inject("externalcontact/send_welcome_msg", FaultKind.SERVER_ERROR)
    added, _ = await world.emu.customer_adds(way.config_id, "陈先生")
    world.emu.advance_time(25)

    async def failed() -> bool:
        return await ExternalContact.exists(external_userid=added.external_userid, welcome_state=CallState.FAILED)

    await until(world, failed)
    await world.settle()
    assert not world.emu.customer_received(added.external_userid)
    assert any("欢迎语没有发出" in t and "/c/" in t for t in world.texts(SALES))
    # Used: the first send got through but its answer was lost; the retry meets 41051 and counts as sent.
    way = await way_for("CT0004")
    world.emu.inject("externalcontact/send_welcome_msg", FaultKind.TIMEOUT)
    added, _ = await world.emu.customer_adds(way.config_id, "林女士")

    async def done() -> bool:
        return await ExternalContact.exists(external_userid=added.external_userid, welcome_state=CallState.DONE)

    await until(world, done)
    world.emu.release_held()
    assert len(world.emu.customer_received(added.external_userid)) == 1


async def test_bad_input_and_refusals(world: World) -> None:
    order = await at_state("CT0005", OrderState.CREATED)
    # Only the order's salesperson makes its 联系我 code.
    other = await Staff.get(userid="lixiaoshou")
    with pytest.raises(NotAllowed):
        async with in_transaction():
            await request_contact_way(actor=other, order=order)
    assert not await ContactWay.exists(order_id=order.id)
    # The emulator refuses what WeCom refuses.
    with pytest.raises(WeComError):
        world.emu.contact.add_contact_way({"type": 1, "scene": 2, "user": [SALES], "state": "x" * 31}, "")
    with pytest.raises(WeComError):
        world.emu.contact.add_contact_way({"type": 1, "scene": 2, "user": ["chenanzhuang"], "state": "s"}, "")
    with pytest.raises(WeComError):
        world.emu.contact.add_contact_way({"type": 1, "scene": 2, "user": [SALES, "lixiaoshou"], "state": "s"}, "")
    # An add through a state Relay never made binds nothing and sends nothing.
    foreign = world.emu.contact.add_contact_way({"type": 1, "scene": 2, "user": [SALES], "state": "elsewhere"}, "")
    added, result = await world.emu.customer_adds(foreign["config_id"], "路人")
    assert result.ok
    await world.settle()
    assert not await ExternalContact.exists(external_userid=added.external_userid)
    # The page: the salesperson sees 生成二维码.
    async with world.browser_session(SALES) as session:
        async with session.get(f"{world.relay_url}/h5/orders/{order.number}/contact") as resp:
            assert resp.status == 200 and "生成二维码" in await resp.text()


async def test_the_console_plays_the_customer(world: World) -> None:
    """The console's 客户联系 panel: a customer scans the salesperson's code, the member confirms the
    mass-send task, and the panel shows what the customer received."""
    order = await at_state("CT0006", OrderState.CREATED)
    sales = await Staff.get(userid=SALES)
    async with in_transaction():
        await request_contact_way(actor=sales, order=order)

    async def ready() -> ContactWay | None:
        return await ContactWay.get_or_none(order_id=order.id, call_state=CallState.DONE)

    way = await until(world, ready)
    api = f"{world.emulator_url}/emulator/api/contact"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api}/ways") as resp:
            ways = (await resp.json())["ways"]
        assert ways[0]["state"] == way.state_key and ways[0]["name"] == "张晓燕"
        async with http.get(way.qr_code) as resp:
            assert resp.status == 200 and resp.content_type == "image/png"
        async with http.post(f"{api}/add", json={"config_id": way.config_id, "name": "宋女士"}) as resp:
            added = await resp.json()
        assert added["ok"]
        async with http.post(f"{api}/add", json={"config_id": "nope"}) as resp:
            assert resp.status == 404

        async def welcomed() -> list:  # type: ignore[type-arg]
            return world.emu.customer_received(added["external_userid"])

        await until(world, welcomed)
        async with in_transaction():
            await notify.customer_milestone(order, Milestone.INSTALL_BOOKED.value)
        await world.settle()
        await world.tap(SALES, world.card(SALES, f"通知客户：{Milestone.INSTALL_BOOKED.label}"), "发给客户")

        async def task() -> list:  # type: ignore[type-arg]
            async with http.get(f"{api}/member", params={"userid": SALES}) as resp:
                return [t for t in (await resp.json())["tasks"] if not t["confirmed"]]

        [pending] = await until(world, task)
        async with http.post(f"{api}/confirm", json={"userid": SALES, "msgid": pending["msgid"]}) as resp:
            assert resp.status == 200 and (await resp.json())["results"][0]["status"] == 1
        async with http.post(f"{api}/confirm", json={"userid": SALES, "msgid": pending["msgid"]}) as resp:
            assert resp.status == 409
        async with http.get(f"{api}/member", params={"userid": SALES}) as resp:
            [customer] = (await resp.json())["customers"]
        assert customer["name"] == "宋女士" and customer["this_month"] == 1
        assert [r["kind"] for r in customer["received"]] == ["welcome", "mass"]


async def test_a_mass_send_whose_answer_is_lost_is_never_asked_again(world: World) -> None:
    order, added = await bound_order(world, "CT0007")
    world.emu.inject("externalcontact/add_msg_template", FaultKind.TIMEOUT)  # created at WeCom, answer lost
    async with in_transaction():
        await notify.customer_milestone(order, Milestone.INSTALL_BOOKED.value)
    await world.settle()
    await world.tap(SALES, world.card(SALES, f"通知客户：{Milestone.INSTALL_BOOKED.label}"), "发给客户")

    async def unknown() -> CustomerMessage | None:
        return await CustomerMessage.get_or_none(order_id=order.id, call_state=CallState.UNKNOWN)

    message = await until(world, unknown)
    world.emu.release_held()
    await world.settle()
    assert any("群发助手" in t and "不会重复创建" in t for t in world.texts(SALES))
    assert len(world.emu.contact.tasks) == 1 and world.emu.calls["externalcontact/add_msg_template"] == 1
    assert message.slot == 1  # it may reach the customer: it keeps its place in the month's four


async def test_a_mass_send_wecom_refused_for_its_rate_limit_is_asked_again_once(world: World) -> None:
    order, added = await bound_order(world, "CT0008")
    world.emu.inject("externalcontact/add_msg_template", FaultKind.RATE_LIMIT)  # 45009: nothing was created
    async with in_transaction():
        await notify.customer_milestone(order, Milestone.INSTALLED.value)
    await world.settle()
    await world.tap(SALES, world.card(SALES, f"通知客户：{Milestone.INSTALLED.label}"), "发给客户")

    async def created() -> CustomerMessage | None:
        return await CustomerMessage.get_or_none(order_id=order.id, call_state=CallState.DONE)

    await until(world, created)
    assert world.emu.calls["externalcontact/add_msg_template"] == 2 and len(world.emu.contact.tasks) == 1
