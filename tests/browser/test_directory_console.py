"""The emulator console's 通讯录 panel: a member joins and one leaves, as a WeCom admin would do it, and Relay
follows through the change events (the new member in their unit, the one who left deactivated)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from emulator import EmulatorUser
from models import OrgUnit, Staff
from tests.browser.h5 import open_as
from tests.browser.test_console import member, switch_to
from tests.support import World, start_world
from tests.test_scheduler import drain, workers


@pytest.fixture
async def world(database: str, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    extra = {"directory": {"enabled": True}}
    async with start_world(database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra=extra) as w:
        yield w


async def test_members_join_and_leave_in_the_console(world: World, page: Page) -> None:
    await page.goto(world.emulator_url)
    await page.click("#directory-panel summary")
    await page.fill("#directory-userid", "xinren")
    await page.fill("#directory-name", "辛仁")
    await page.select_option("#directory-department", "4")
    await page.click("#directory-join button[type=submit]")
    await expect(member(page, "辛仁")).to_be_visible()  # the console reloaded with the new member
    await world.settle()
    staff = await Staff.get(userid="xinren")
    assert (await OrgUnit.get(id=staff.org_unit_id)).name == "上海浦东店"

    await switch_to(page, "周师傅")
    await page.click("#directory-panel summary")
    await page.click("#directory-leave")
    await expect(member(page, "周师傅")).to_have_count(0)
    await world.settle()
    assert not (await Staff.get(userid="zhouceliang")).active


async def test_an_admin_syncs_the_directory_now(world: World, page: Page) -> None:
    world.emu.directory.add_user(EmulatorUser("wuxiaoxi", "吴小溪", [3]))  # joined without an event
    await open_as(page, world, "wangzong", "/h5/admin")
    await expect(page.locator("#last-sync")).to_have_text("尚未全量同步")
    await page.click("#sync-now")
    await expect(page.locator("#notice")).to_have_text("已安排同步，稍后刷新查看")
    await drain(world, *workers(1))
    await page.reload()
    await expect(page.locator("#last-sync")).to_contain_text("上次全量同步")
    assert await Staff.exists(userid="wuxiaoxi", active=True)
