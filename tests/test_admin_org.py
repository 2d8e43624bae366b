"""The admin's rules for staff and org units (workflow/admin.py): a unit moved takes its subtree's paths
along; a unit with people, or one from the WeCom directory, is not closed or renamed here; a member
deactivated hands back their work and stays inactive through a directory sync; a forged form is refused."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from infra.timeutil import local_today
from models import AuditAction, AuditEntry, OrgUnit, Staff, TaskKind, TaskState
from tests.support import World
from tests.test_permissions import new_order
from workflow import admin
from workflow.directory import request_sync
from workflow.errors import Invalid, NotAllowed
from workflow.tasks import dispatch_task


async def test_units_move_with_their_subtree_and_close_only_when_empty(world: World) -> None:
    boss = await world.staff("wangzong")
    root = await OrgUnit.get(name="朗斯家居")
    north = await admin.create_unit(actor=boss, name="华北区", parent_id=root.id)
    xuhui = await OrgUnit.get(name="上海徐汇店")
    with pytest.raises(Invalid, match="不能移到自己或自己的下级组织下"):
        await admin.move_unit(actor=boss, unit_id=(await OrgUnit.get(name="华东区")).id, parent_id=xuhui.id)
    beijing = await admin.create_unit(actor=boss, name="北京店", parent_id=xuhui.id)
    await admin.move_unit(actor=boss, unit_id=beijing.id, parent_id=north.id)
    await beijing.refresh_from_db()
    assert beijing.path == f"{north.path}{beijing.id}/"
    team = await admin.create_unit(actor=boss, name="北京安装组", parent_id=beijing.id)
    await admin.move_unit(actor=boss, unit_id=beijing.id, parent_id=(await OrgUnit.get(name="华东区")).id)
    await team.refresh_from_db()
    await beijing.refresh_from_db()
    assert team.path == f"{beijing.path}{team.id}/"  # the subtree moved along
    with pytest.raises(Invalid, match="在职人员"):
        await admin.set_unit_active(actor=boss, unit_id=xuhui.id, active=False)
    with pytest.raises(Invalid, match="下级组织"):
        await admin.set_unit_active(actor=boss, unit_id=beijing.id, active=False)
    await admin.set_unit_active(actor=boss, unit_id=team.id, active=False)
    await admin.rename_unit(actor=boss, unit_id=beijing.id, name="北京朝阳店")
    assert not (await OrgUnit.get(id=team.id)).active and (await OrgUnit.get(id=beijing.id)).name == "北京朝阳店"
    # A unit from the WeCom directory is changed in WeCom.
    await OrgUnit.filter(id=xuhui.id).update(wecom_department_id=3)
    with pytest.raises(Invalid, match="企业微信"):
        await admin.rename_unit(actor=boss, unit_id=xuhui.id, name="改名")
    # A regional admin acts within their region only.
    regional = await world.staff("liujingli")
    await Staff.filter(id=regional.id).update(roles=["manager", "admin"])
    regional = await world.staff("liujingli")
    with pytest.raises(NotAllowed):
        await admin.rename_unit(actor=regional, unit_id=north.id, name="华北大区")
    assert await AuditEntry.filter(action=AuditAction.UNIT_EDIT).count() == 7


async def test_a_member_deactivated_hands_back_their_job_and_is_reactivated(world: World) -> None:
    boss = await world.staff("wangzong")
    order = await new_order("ADM-OFF")
    installer_free = await world.staff("sunceliang")
    task = await dispatch_task(
        actor=await world.staff("zhaopaidan"),
        order=order,
        kind=TaskKind.MEASURE,
        worker_id=installer_free.id,
        day=local_today() + timedelta(days=1),
    )
    member, returned = await admin.set_staff_active(actor=boss, staff_id=installer_free.id, active=False)
    await task.refresh_from_db()
    assert (member.active, member.left_at, returned, task.state) == (False, None, 1, TaskState.CANCELLED)
    with pytest.raises(Invalid, match="不能停用自己的账号"):
        await admin.set_staff_active(actor=boss, staff_id=boss.id, active=False)
    member, _ = await admin.set_staff_active(actor=boss, staff_id=member.id, active=True)
    assert member.active
    moved = await admin.move_staff(actor=boss, staff_id=member.id, unit_id=(await OrgUnit.get(name="上海浦东店")).id)
    assert (await OrgUnit.get(id=moved.org_unit_id)).name == "上海浦东店"


async def test_a_form_without_its_csrf_token_changes_nothing(world: World) -> None:
    async with world.browser_session("wangzong") as http:
        data = aiohttp.FormData({"action": "create", "name": "无令牌店", "parent": "1"})
        async with http.post(f"{world.relay_url}/h5/admin/units", data=data) as resp:
            assert resp.status == 403
    assert not await OrgUnit.filter(name="无令牌店").exists()


async def test_sync_now_needs_the_directory_on(world: World) -> None:
    with pytest.raises(Invalid, match="未开启企业微信通讯录同步"):
        await request_sync(actor=await world.staff("wangzong"))
    with pytest.raises(NotAllowed):
        await request_sync(actor=await world.staff("zhangxiaoshou"))
