"""Staff and org units from WeCom's directory, through the emulator: a member who joins appears in their
unit; one who leaves is deactivated and their open work handed back (the dispatcher's card, the lead to
the queue); the scheduled sync mends what no event said; the same event twice is harmless; tags map to
roles and only tags take those roles away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from emulator import EmulatorDepartment, EmulatorTag, EmulatorUser
from infra.timeutil import local_today, utcnow
from models import (
    EventKind,
    Job,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadState,
    OrderEvent,
    OrderState,
    OrgUnit,
    Staff,
    Task,
    TaskKind,
    TaskState,
    TicketKind,
    TicketSource,
    TicketState,
)
from scheduler.plan import plan_recurring
from tests.support import World, start_world
from tests.test_leads import book
from tests.test_permissions import at_state, new_order
from tests.test_scheduler import drain, make_due, workers
from workflow import admin, directory
from workflow.tasks import dispatch_task
from workflow.tickets import dispatch_ticket, open_ticket

XUHUI = 3  # the demo's departments (relay/demo.py directory_of): 1 company, 2 华东区, 3 徐汇店, 4 浦东店
PUDONG = 4
MEASURER_TAG = 7


@pytest.fixture
async def world(database: str, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    extra = {"directory": {"enabled": True, "tag_roles": {"测量师傅": "measurer"}}}
    async with start_world(database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra=extra) as w:
        w.emu.directory.tags[MEASURER_TAG] = EmulatorTag(MEASURER_TAG, "测量师傅")
        yield w


async def sync(world: World) -> None:
    """The scheduled full sync of the next period (sync_minutes apart), run now."""
    done = await Job.filter(kind=directory.SYNC).count()
    await plan_recurring(utcnow() + timedelta(hours=done))
    await make_due(directory.SYNC)
    await drain(world, *workers(1))


async def test_a_member_who_joins_appears_in_their_unit(world: World) -> None:
    result = await world.emu.member_joins(EmulatorUser("xinren", "辛仁", department=[PUDONG]))
    assert result is not None and result.ok
    await world.settle()
    staff = await Staff.get(userid="xinren")
    unit = await OrgUnit.get(id=staff.org_unit_id)
    assert (staff.name, unit.name, unit.wecom_department_id, staff.active) == ("辛仁", "上海浦东店", PUDONG, True)
    assert staff.roles == []  # roles are Relay's: none until an admin (or a mapped tag) gives one
    # The seeded units were linked to their departments, not made twice.
    assert await OrgUnit.filter(name="上海浦东店").count() == 1


async def test_a_member_who_leaves_hands_back_their_task_and_lead(world: World) -> None:
    order = await new_order("DIR-LEAVE")
    dispatcher = await world.staff("zhaopaidan")
    measurer = await world.staff("sunceliang")
    task = await dispatch_task(
        actor=dispatcher,
        order=order,
        kind=TaskKind.MEASURE,
        worker_id=measurer.id,
        day=local_today() + timedelta(days=1),
    )
    store = await OrgUnit.get(name="上海徐汇店")
    lead = await book(store)
    consultant = (await Staff.get(id=(await Lead.get(id=lead.id)).consultant_id)).userid
    await world.settle()
    cards_before = len(world.emu.cards("zhaopaidan"))

    await world.emu.member_leaves("sunceliang")
    await world.emu.member_leaves(consultant)
    await world.settle()

    measurer = await Staff.get(userid="sunceliang")
    assert not measurer.active and measurer.left_at is not None  # deactivated, never deleted
    await task.refresh_from_db()
    await order.refresh_from_db()
    assert task.state == TaskState.CANCELLED and order.state == OrderState.CREATED
    card = world.emu.cards("zhaopaidan")[-1]
    assert len(world.emu.cards("zhaopaidan")) > cards_before
    assert "离职" in str(card.card)
    # The lead went back to the queue and on to the other free consultant of the store.
    await lead.refresh_from_db()
    assert lead.consultant_id != (await Staff.get(userid=consultant)).id
    assert lead.state in (LeadState.NEW, LeadState.ASSIGNED)
    assert await LeadEvent.exists(lead_id=lead.id, kind=LeadEventKind.RETURNED)
    assert await OrderEvent.exists(order_id=order.id, kind=EventKind.MEASURE_RETURNED)


async def test_the_same_event_twice_changes_nothing_the_second_time(world: World) -> None:
    await world.emu.member_leaves("chenanzhuang")
    await world.settle()
    left_at = (await Staff.get(userid="chenanzhuang")).left_at
    record = world.emu.callbacks[-1]
    result = await world.emu.resend(record)
    assert result.ok
    await world.settle()
    assert (await Staff.get(userid="chenanzhuang")).left_at == left_at
    # A fresh event of the same change (another second) finds nothing to do either.
    await world.emu._contact_change(True, "delete_user", [("UserID", "chenanzhuang")])
    await world.settle()
    assert (await Staff.get(userid="chenanzhuang")).left_at == left_at


async def test_the_scheduled_sync_mends_what_the_events_missed(world: World) -> None:
    await sync(world)  # the first sync links the seeded units to their departments
    # A department renamed sends no event; a member who joined and one who left without one.
    await world.emu.department_changes(PUDONG, name="上海浦东新店")
    await world.emu.member_joins(EmulatorUser("wuxiaoxi", "吴小溪", department=[XUHUI]), notify=False)
    await world.emu.member_leaves("zhouceliang", notify=False)
    await world.emu.department_created(EmulatorDepartment(9, "上海闵行店", parentid=2), notify=False)
    assert await OrgUnit.get_or_none(name="上海浦东新店") is None
    await sync(world)
    assert (await OrgUnit.get(wecom_department_id=PUDONG)).name == "上海浦东新店"
    minhang = await OrgUnit.get(wecom_department_id=9)
    parent = await OrgUnit.get(wecom_department_id=2)
    assert minhang.path == f"{parent.path}{minhang.id}/"
    assert (await Staff.get(userid="wuxiaoxi")).active
    assert not (await Staff.get(userid="zhouceliang")).active
    # A second sync finds nothing to change.
    before = [(s.userid, s.name, s.active, s.org_unit_id, s.roles) for s in await Staff.all().order_by("id")]
    await sync(world)
    after = [(s.userid, s.name, s.active, s.org_unit_id, s.roles) for s in await Staff.all().order_by("id")]
    assert before == after
    assert await Job.filter(kind=directory.SYNC).count() >= 1


async def test_tags_give_roles_and_take_back_only_their_own(world: World) -> None:
    await world.emu.member_tagged(MEASURER_TAG, "zhengsheji")
    await world.settle()
    designer = await Staff.get(userid="zhengsheji")
    assert designer.roles == ["designer", "measurer"] and designer.tag_roles == ["measurer"]
    # sunceliang is a measurer by the admin's say: the tag's going cannot take that away.
    await world.emu.member_tagged(MEASURER_TAG, "sunceliang")
    await world.settle()
    await world.emu.member_tagged(MEASURER_TAG, "sunceliang", tagged=False)
    await world.emu.member_tagged(MEASURER_TAG, "zhengsheji", tagged=False)
    await world.settle()
    assert (await Staff.get(userid="zhengsheji")).roles == ["designer"]
    assert "measurer" in (await Staff.get(userid="sunceliang")).roles
    # A member who joins with the tag holds the role at once.
    await world.emu.member_joins(EmulatorUser("xinceliang", "辛师傅", department=[XUHUI]), notify=False)
    world.emu.directory.tag_user(MEASURER_TAG, "xinceliang")
    await sync(world)
    assert (await Staff.get(userid="xinceliang")).roles == ["measurer"]


async def test_a_member_back_in_the_directory_is_active_again(world: World) -> None:
    await world.emu.member_leaves("fengcangku")
    await world.settle()
    assert not (await Staff.get(userid="fengcangku")).active
    await world.emu.member_joins(EmulatorUser("fengcangku", "冯仓管", department=[2]))
    await world.settle()
    staff = await Staff.get(userid="fengcangku")
    assert staff.active and staff.left_at is None and staff.roles == ["warehouse"]
    assert await Task.filter(assignee_id=staff.id).count() == 0


async def test_a_member_an_admin_deactivated_stays_so_through_a_sync(world: World) -> None:
    boss = await world.staff("wangzong")
    qian = await world.staff("qiankuaiji")
    await admin.set_staff_active(actor=boss, staff_id=qian.id, active=False)
    await admin.set_roles(actor=boss, staff_id=(await world.staff("zhengsheji")).id, roles=["designer", "measurer"])
    await world.emu.member_tagged(MEASURER_TAG, "zhengsheji", notify=False)
    await sync(world)
    await world.emu.member_tagged(MEASURER_TAG, "zhengsheji", tagged=False, notify=False)
    await sync(world)
    assert not (await Staff.get(userid="qiankuaiji")).active  # still in WeCom, but the admin's say stands
    assert set((await Staff.get(userid="zhengsheji")).roles) == {"designer", "measurer"}  # the admin gave it


async def test_a_changed_userid_is_the_same_person(world: World) -> None:
    staff = await world.staff("fangqiantai")
    world.emu.directory.remove_user("fangqiantai")
    world.emu.directory.add_user(EmulatorUser("fang.qt", "方前台", [XUHUI]))
    fields = [("UserID", "fangqiantai"), ("NewUserID", "fang.qt"), ("Department", str(XUHUI))]
    await world.emu._contact_change(True, "update_user", fields)
    await world.settle()
    renamed = await Staff.get(id=staff.id)
    assert (renamed.userid, renamed.active, renamed.roles) == ("fang.qt", True, ["reception"])
    assert not await Staff.exists(userid="fangqiantai")


async def test_an_empty_listing_deactivates_nobody(world: World) -> None:
    await sync(world)
    for user in world.emu.directory.all():
        world.emu.directory.remove_user(user.userid)
    await sync(world)
    assert await Staff.filter(active=False).count() == 0


async def test_a_departed_installers_ticket_goes_back_to_after_sales(world: World) -> None:
    order = await at_state("DIR-TICKET", OrderState.INSTALLED)
    after_sales = await world.staff("weishouhou")
    ticket = await open_ticket(
        actor=after_sales, order=order, kind=TicketKind.REPAIR, source=TicketSource.CHAT, description="门吸松了"
    )
    installer = await world.staff("chenanzhuang")
    await dispatch_ticket(actor=after_sales, ticket_id=ticket.id, worker_id=installer.id, day=local_today())
    await world.settle()
    await world.emu.member_leaves("chenanzhuang")
    await world.settle()
    await ticket.refresh_from_db()
    assert (ticket.state, ticket.assignee_id) == (TicketState.OPEN, None)
    card = world.emu.cards("weishouhou")[-1]
    assert card.title == "工单退回，请重新派单" and "陈师傅 已离职" in str(card.card)


async def test_a_department_named_like_a_unit_of_relays_own_does_not_stop_the_sync(world: World) -> None:
    await sync(world)
    boss = await world.staff("wangzong")
    region = await OrgUnit.get(wecom_department_id=2)
    await admin.create_unit(actor=boss, name="上海静安店", parent_id=region.id)
    await world.emu.department_changes(PUDONG, name="上海静安店")
    await world.emu.member_joins(EmulatorUser("jingan", "静安新人", department=[XUHUI]), notify=False)
    await sync(world)
    assert (await OrgUnit.get(wecom_department_id=PUDONG)).name == "上海浦东店"  # kept: one name per parent
    assert await Staff.exists(userid="jingan")  # and the rest of the sync went through
