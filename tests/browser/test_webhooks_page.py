"""The admin's webhooks page on a phone: a delivery the receiver refused until it gave up shows as 失败 with
the receiver's answer, and 重发 sends it again, the same event, which then arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from models import MessageState, OrderState, Staff, WebhookDelivery
from tests.browser.conftest import Shot
from tests.browser.h5 import open_as, order_at
from tests.support import World, start_world
from tests.test_webhooks import Receiver, no_pending
from workflow.webhooks import SubscriptionInput, create_subscription

ADMIN = "wangzong"
GIVES_UP = {"api": {"webhook_max_attempts": 2, "webhook_max_backoff": 0.2}}


@pytest.fixture
async def impatient_world(database: str, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with start_world(
        database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra=GIVES_UP
    ) as world:
        yield world


async def test_the_admin_replays_a_failed_delivery(impatient_world: World, page: Page, shot: Shot) -> None:
    world = impatient_world
    got = Receiver(failures=1_000)  # down until the test says otherwise
    app = web.Application()
    app.router.add_post("/hook", got.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        created = await create_subscription(
            actor=await Staff.get(userid=ADMIN),
            form=SubscriptionInput("财务系统", str(server.make_url("/hook")), ["order.state_changed"]),
        )
        got.secret = created.secret
        await order_at(world, OrderState.CREATED, "WH-BROWSER-1", models=("K5",))
        await no_pending()
        delivery = await WebhookDelivery.get()
        assert (delivery.state, delivery.attempts, delivery.last_status) == (MessageState.FAILED, 2, 500)

        await open_as(page, world, ADMIN, "/h5/admin/webhooks")
        row = page.locator(f'#deliveries li[data-delivery="{delivery.id}"]')
        await expect(row).to_contain_text("失败")
        await expect(row).to_contain_text("最近响应 500")
        await expect(page.locator("#subscriptions")).to_contain_text("财务系统")
        got.failures = 0  # the receiver is back
        await row.get_by_role("button", name="重发").click()
        await expect(page.locator("#notice")).to_have_text(f"投递 {delivery.id}（order.state_changed）已重新排队")
        await got.wait_for(1)
        await no_pending()
        await open_as(page, world, ADMIN, "/h5/admin/webhooks")
        await expect(page.locator(f'#deliveries li[data-delivery="{delivery.id}"]')).to_contain_text("已送达")
        await shot("replayed")
    finally:
        await server.close()
    assert list(got.accepted) == [delivery.event_id] and got.repeats == 0
    assert all(valid for _, valid in got.requests)


async def test_only_admins_see_the_webhooks_page(world: World, page: Page) -> None:
    await open_as(page, world, "zhangxiaoshou", "/h5/admin/webhooks")
    await expect(page.locator("body")).to_contain_text("只有管理员可以管理 Webhook")
