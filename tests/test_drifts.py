"""The places where a page or the chat once decided differently from the workflow, each as its user met it."""

from __future__ import annotations

import re

from infra.timeutil import local_today
from models import OrderState, Role, TaskKind
from tests.support import World
from tests.test_lifecycle import post_form
from tests.test_permissions import FAR, STORE, at_state, member, seeded
from workflow.tasks import answer_task, dispatch_task


async def order_page(world: World, userid: str, number: str) -> tuple[int, str]:
    async with world.signed_in(userid) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{number}") as resp:
            return resp.status, await resp.text()


def buttons(html: str) -> list[str]:
    match = re.search(r'<div class="card" id="actions">(.*?)</div>', html, re.S)
    return re.findall(r'<a class="btn block" href="[^"]+"[^>]*>([^<]+)</a>', match.group(1)) if match else []


async def test_the_installer_who_finished_sees_the_signing_page(world: World) -> None:
    order = await at_state("DR-SIGN", OrderState.INSTALLED)
    status, html = await order_page(world, "chenanzhuang", order.number)
    assert status == 200 and "客户签字" in buttons(html)
    async with world.browser_session("chenanzhuang") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/sign") as resp:
            assert 'id="sign-link"' in await resp.text()
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/sign-qr.png") as resp:
            assert resp.status == 200 and resp.content_type == "image/png"
    # Another installer of the team did not do this job: no link for them.
    async with world.browser_session("wuceliang") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/sign-qr.png") as resp:
            assert resp.status == 404


async def test_changes_are_offered_only_to_who_may_change_something(world: World) -> None:
    order = await at_state("DR-CHANGE", OrderState.CONFIRMED)
    _, designer = await order_page(world, "zhengsheji", order.number)
    _, sales = await order_page(world, "zhangxiaoshou", order.number)
    _, warehouse = await order_page(world, "fengcangku", order.number)
    assert not any(b.startswith("调整") for b in buttons(designer))
    assert any(b.startswith("调整") for b in buttons(sales))
    assert buttons(warehouse) == ["入库登记"]
    # The designer who opens the page anyway is offered nothing to submit.
    async with world.browser_session("zhengsheji") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/changes") as resp:
            html = await resp.text()
    assert 'id="nothing-to-change"' in html and 'id="cancel-form"' not in html


async def test_dispatch_and_warehouse_buttons_follow_scope(world: World) -> None:
    created = await at_state("DR-SCOPE1", OrderState.CREATED)
    confirmed = await at_state("DR-SCOPE2", OrderState.CONFIRMED)
    far_dispatcher = await member("far-md", Role.MEASURE_DISPATCHER, FAR)
    far_warehouse = await member("far-wh", Role.WAREHOUSE, FAR)
    # Elsewhere in the company the order does not exist for them, let alone a button on it.
    for userid, number in ((far_dispatcher.userid, created.number), (far_warehouse.userid, confirmed.number)):
        async with world.signed_in(userid) as http:
            async with http.get(f"{world.relay_url}/h5/orders/{number}") as resp:
                assert resp.status == 404
    _, html = await order_page(world, "zhaopaidan", created.number)
    assert "派测量" in buttons(html)


async def test_the_hand_over_list_is_the_acting_dispatchers_team(world: World) -> None:
    order = await at_state("DR-TEAM", OrderState.CREATED)
    store_dispatcher = await member("store-md", Role.MEASURE_DISPATCHER, STORE)
    measurer = await seeded("sunceliang")
    task = await dispatch_task(
        actor=store_dispatcher, order=order, kind=TaskKind.MEASURE, worker_id=measurer.id, day=local_today()
    )
    # 赵静 covers the whole region: she may give the job to 周师傅 of the other store, and is offered him.
    async with world.browser_session("zhaopaidan") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/changes") as resp:
            html = await resp.text()
    assert "周师傅" in html and "吴师傅" in html
    zhou = await seeded("zhouceliang")
    status, _ = await post_form(
        world,
        "zhaopaidan",
        f"/h5/orders/{order.number}/changes",
        [("action", "reassign"), ("task_id", str(task.id)), ("worker_id", str(zhou.id))],
    )
    assert status == 200
    await task.refresh_from_db()
    assert task.assignee_id == zhou.id


async def test_a_declined_job_gives_no_access_to_the_order(world: World) -> None:
    order = await at_state("DR-DECLINE", OrderState.CREATED)
    far_measurer = await member("far-ms", Role.MEASURER, FAR)
    # A dispatcher over the whole company may send a measurer from another region.
    head_office = await member("hq-md", Role.MEASURE_DISPATCHER, "朗斯家居")
    task = await dispatch_task(
        actor=head_office, order=order, kind=TaskKind.MEASURE, worker_id=far_measurer.id, day=local_today()
    )
    status, html = await order_page(world, far_measurer.userid, order.number)
    assert status == 200 and 'id="customer"' in html
    await answer_task(actor=far_measurer, task_id=task.id, accept=False, reason="太远")
    status, html = await order_page(world, far_measurer.userid, order.number)
    assert status == 404 and 'id="customer"' not in html
    far_view = await seeded(far_measurer.userid)
    from workflow.errors import NotFound
    from workflow.scope import get_order_for

    try:
        await get_order_for(far_view, order.number)
        raise AssertionError("the order is still visible to the measurer who declined")
    except NotFound as refused:
        assert refused.message == f"没有找到订单 {order.number}"


async def test_signing_twice_is_a_conflict_by_type(world: World) -> None:
    from workflow.signing import signing_url

    order = await at_state("DR-SIGNED", OrderState.INSTALLED)
    import aiohttp

    from tests.test_lifecycle import signature_png

    url = signing_url(order)
    async with aiohttp.ClientSession() as customer:
        async with customer.post(url, data={"signature": signature_png()}, allow_redirects=False) as resp:
            assert resp.status == 302
        async with customer.post(url, data={"signature": signature_png()}) as resp:
            assert resp.status == 409 and "已经签过字" in await resp.text()
