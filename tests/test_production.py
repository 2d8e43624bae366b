"""Production: release to the factory gives every piece its number and date, the factory moves pieces
by chat scan and through the API with a service token, the warehouse's scan must match, a late piece
raises its alert, and two factory members moving the same piece at once: one wins."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import aiohttp

from infra.runtime import runtime
from infra.timeutil import local_today, utcnow
from models import (
    Alert,
    AttachmentCategory,
    Order,
    OrderPiece,
    OrderState,
    Payment,
    PieceState,
    Role,
    ServiceToken,
    Staff,
)
from tests.support import World, jpeg
from tests.test_goods_in import windows_order
from tests.test_lifecycle import WAREHOUSE
from tests.test_permissions import FAR, member
from workflow import alerts
from workflow.attachments import attach
from workflow.errors import Conflict, NotAllowed
from workflow.order_lifecycle import ORDER
from workflow.piece_lifecycle import PIECE
from workflow.production import move_piece, release_if_ready
from workflow.selectors import expected_install_date
from workflow.tokens import create_token, revoke_token

FACTORY = "zhouchangzhang"
NUMBER = "LS20261202201"
OTHER = "LS20261202202"


async def released(world: World, number: str = NUMBER) -> tuple[Order, list[OrderPiece]]:
    """A shower enclosure and a line of three windows, confirmed, the deposit confirmed by finance, released."""
    order = await windows_order(world, number, OrderState.CONFIRMED)
    await Payment.filter(order_id=order.id).update(confirmed_at=utcnow())
    assert await release_if_ready(order)
    await world.settle()
    await order.refresh_from_db()
    return order, await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")


async def test_release_numbers_every_piece_once(world: World) -> None:
    order = await windows_order(world, NUMBER, OrderState.CONFIRMED)
    # The deposit waits for finance: nothing goes to the factory yet.
    assert not await release_if_ready(order)
    assert (await Order.get(id=order.id)).production_order_number is None
    await Payment.filter(order_id=order.id).update(confirmed_at=utcnow())

    # Finance's confirmation and the approval may call it at the same moment: one release.
    results = await asyncio.gather(release_if_ready(order), release_if_ready(order))
    assert sorted(results) == [False, True]
    await world.settle()
    await order.refresh_from_db()
    prefix = f"P{order.released_at:%y%m}-{order.id:06d}"
    assert order.production_order_number == prefix
    pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq").prefetch_related("item")
    assert [p.production_number for p in pieces] == [f"{prefix}-0{n}" for n in range(1, 5)]
    windows = [p for p in pieces if p.item.model == "D70"]
    assert len(windows) == 3  # a line of three windows: three pieces
    assert all(p.state == PieceState.QUEUED and p.expected_date == local_today() + timedelta(days=15) for p in pieces)
    install = local_today() + timedelta(days=15 + 3)
    assert await expected_install_date(order) == install
    async with world.browser_session("zhangxiaoshou") as http:  # sales, on the order page
        async with http.get(f"{world.relay_url}/h5/orders/{NUMBER}") as resp:
            html = await resp.text()
    assert f'<dd id="expected-install">{install.isoformat()}（按生产进度）</dd>' in html
    assert f'<dd id="production-order">{prefix}</dd>' in html

    card = world.card(FACTORY, "新生产单")
    assert card.desc == f"生产单号 {prefix}"
    assert f"{prefix}-02 阳台：门窗 断桥铝 D70 第 1/3 件" in card.card["quote_area"]["quote_text"]
    assert not await release_if_ready(order)

    # The factory makes what the confirmed design says: its files are one tap from the production page.
    design = await attach(
        order,
        await runtime().files.put_image(jpeg()),
        category=AttachmentCategory.DESIGN,
        uploader=await world.staff("zhengsheji"),
        filename="阳台窗效果图.jpg",
    )
    async with world.signed_in(FACTORY) as http:
        async with http.get(f"{world.relay_url}/h5/production?order={NUMBER}") as resp:
            page = await resp.text()
        assert f'<a href="/h5/files/{design.id}" target="_blank">阳台窗效果图.jpg</a>' in page
        async with http.get(f"{world.relay_url}/h5/files/{design.id}") as resp:
            assert resp.status == 200 and resp.content_type == "image/jpeg"


async def test_the_factory_moves_pieces_by_scan_and_in_batches(world: World) -> None:
    order, pieces = await released(world)
    await world.say(FACTORY, "生产")
    assert f"{order.production_order_number}（订单 {NUMBER}）：待生产 4" in world.last_text(FACTORY)

    first = pieces[0].production_number
    await world.emu.user_scans(FACTORY, "scan_production", f"CODE_128,{first}")
    await world.settle()
    card = world.card(FACTORY, f"生产编号 {first}")
    assert card.desc == "待生产"
    assert card.button_texts == ["开始生产"]
    await world.tap(FACTORY, card, "开始生产")
    assert (await OrderPiece.get(id=pieces[0].id)).state == PieceState.IN_PRODUCTION
    assert world.card(FACTORY, f"生产编号 {first}").button_texts == ["完工"]

    # Three numbers in one message: each to its next step, each on its own.
    numbers = " ".join(p.production_number or "" for p in pieces[:3])
    await world.say(FACTORY, numbers)
    reply = world.last_text(FACTORY)
    assert reply.startswith("批量处理 3 件，成功 3 件")
    assert f"{first}：→ 已完工" in reply
    states = [p.state for p in await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")]
    assert states == [PieceState.FINISHED, PieceState.IN_PRODUCTION, PieceState.IN_PRODUCTION, PieceState.QUEUED]

    # A number nobody gave out is refused by name.
    await world.emu.user_scans(FACTORY, "scan_production", "CODE_128,P2612-999999-01")
    await world.settle()
    assert world.last_text(FACTORY) == "没有生产编号为 P2612-999999-01 的产品，请核对编号"

    # The warehouse may not move a piece on the line.
    late_move = PIECE["finish"]
    warehouse = await Staff.get(userid=WAREHOUSE)
    try:
        await move_piece(actor=warehouse, piece=pieces[1], step=late_move)
        raise AssertionError("the warehouse moved a piece on the line")
    except Exception as refused:
        assert getattr(refused, "message", "") == "只有工厂可以这样操作"


async def test_the_factory_system_moves_pieces_with_a_token(world: World) -> None:
    order, pieces = await released(world)
    admin = await Staff.get(userid="wangzong")
    writer = await create_token(actor=admin, name="工厂 MES", scopes=["pieces:write", "production:read"])
    reader = await create_token(actor=admin, name="看板", scopes=["production:read"])
    assert writer.secret.startswith("relay_") and writer.token.secret_hash != writer.secret
    number = pieces[0].production_number
    url = f"{world.relay_url}/api/v1/pieces/{number}/state"

    def auth(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"state": "in_production"}) as resp:
            assert resp.status == 401
            assert (await resp.json())["message"].startswith("缺少访问令牌")
        async with http.post(url, json={"state": "in_production"}, headers=auth(reader.secret)) as resp:
            assert resp.status == 403
            assert (await resp.json())["message"] == "访问令牌没有 pieces:write 权限"
        async with http.post(url, json={"state": "in_production"}, headers=auth("relay_nonsense")) as resp:
            assert resp.status == 401
        bad = f"{world.relay_url}/api/v1/pieces/P2612-999999-01/state"
        async with http.post(bad, json={"state": "finished"}, headers=auth(writer.secret)) as resp:
            assert resp.status == 404
            assert "P2612-999999-01" in (await resp.json())["message"]
        async with http.post(url, json={"state": "sideways"}, headers=auth(writer.secret)) as resp:
            assert resp.status == 400

        for state in ("in_production", "finished", "shipped"):
            body = {"state": state, "expected_date": (local_today() + timedelta(days=9)).isoformat()}
            async with http.post(url, json=body, headers=auth(writer.secret)) as resp:
                assert resp.status == 200, await resp.text()
                assert (await resp.json())["state"] == state
        async with http.post(url, json={"state": "queued"}, headers=auth(writer.secret)) as resp:
            assert resp.status == 409
            assert (await resp.json())["message"] == f"生产编号 {number} 当前状态：已发货，不能改为待生产"
        # Skipping a step is refused with the table's words.
        skip = f"{world.relay_url}/api/v1/pieces/{pieces[1].production_number}/state"
        async with http.post(skip, json={"state": "shipped"}, headers=auth(writer.secret)) as resp:
            assert resp.status == 409
            refused = (await resp.json())["message"]
            assert refused == f"生产编号 {pieces[1].production_number} 当前状态：待生产，不能发货"

        # The waiting list, a page at a time.
        await released(world, OTHER)
        listing = f"{world.relay_url}/api/v1/production-orders"
        async with http.get(listing, params={"limit": "1"}, headers=auth(reader.secret)) as resp:
            page = await resp.json()
        assert [o["order_number"] for o in page["items"]] == [NUMBER]
        assert page["items"][0]["pieces"][0] == {
            "production_number": number,
            "state": "shipped",
            "state_label": "已发货",
            "expected_date": (local_today() + timedelta(days=9)).isoformat(),
            "label": "主卫：淋浴房 K系列 K5",
        }
        assert "phone" not in str(page) and "黄女士" not in str(page)
        async with http.get(
            listing, params={"limit": "1", "cursor": page["next_cursor"]}, headers=auth(reader.secret)
        ) as resp:
            second = await resp.json()
        assert [o["order_number"] for o in second["items"]] == [OTHER] and second["next_cursor"] is None

        await revoke_token(actor=admin, token_id=writer.token.id)
        async with http.post(url, json={"state": "shipped"}, headers=auth(writer.secret)) as resp:
            assert resp.status == 401
            assert (await resp.json())["message"] == "访问令牌已吊销"
        async with http.get(f"{world.relay_url}/api/v1/openapi.json") as resp:
            paths = (await resp.json())["paths"]
        assert "/api/v1/pieces/{production_number}/state" in paths and "/api/v1/production-orders" in paths
    assert (await Order.get(id=order.id)).state == OrderState.CONFIRMED


async def test_the_warehouse_scan_must_match_a_piece_that_left_the_line(world: World) -> None:
    order, pieces = await released(world)
    other, others = await released(world, OTHER)
    factory = await Staff.get(userid=FACTORY)
    for piece in pieces[:3]:
        for _ in range(3):
            await move_piece(actor=factory, piece=piece)

    await world.say(WAREHOUSE, f"入库 {NUMBER}")
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "CODE_128,P2612-999999-01")
    await world.settle()
    assert world.last_text(WAREHOUSE) == f"生产编号 P2612-999999-01 不是订单 {NUMBER} 的产品，请核对编号"
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", f"CODE_128,{others[0].production_number}")
    await world.settle()
    assert world.last_text(WAREHOUSE) == (
        f"生产编号 {others[0].production_number} 属于订单 {OTHER}，不是订单 {NUMBER} 的产品"
    )
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", f"CODE_128,{pieces[3].production_number}")
    await world.settle()
    assert world.last_text(WAREHOUSE) == f"生产编号 {pieces[3].production_number} 当前状态：待生产，不能到仓"

    for piece in pieces[:3]:
        await world.emu.user_scans(WAREHOUSE, "scan_goods_in", f"QR_CODE,{piece.production_number}")
        await world.settle()
    assert world.card(WAREHOUSE, f"入库 · 订单 {NUMBER}").desc == "3/4 件已到货"
    for _ in range(2):
        await move_piece(actor=factory, piece=pieces[3])  # finished: fetched from the yard, never marked shipped
    # (its QR code this time: the same code twice within a second would be one scan, WeCom's re-send)
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", f"QR_CODE,{pieces[3].production_number}")
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.IN_STOCK
    assert {p.state for p in await OrderPiece.filter(order_id=order.id)} == {PieceState.IN_STOCK}
    assert (await Order.get(id=other.id)).state == OrderState.CONFIRMED


async def test_a_late_piece_alerts_the_factory_and_the_managers(world: World) -> None:
    order, pieces = await released(world)
    await OrderPiece.filter(id=pieces[2].id).update(expected_date=local_today() - timedelta(days=2))
    assert await alerts.scan() >= 1
    await world.settle()
    alert = await Alert.get(order_id=order.id, rule="piece_late")
    assert alert.detail.startswith(f"生产编号 {pieces[2].production_number} 应于")
    for who in (FACTORY, "chendianzhang"):
        card = world.card(who, "预警：生产延期")
        assert pieces[2].production_number in card.card["quote_area"]["quote_text"]
    assert await alerts.scan() == 0  # once per order


async def test_two_factory_members_moving_one_piece_one_wins(world: World) -> None:
    _, pieces = await released(world)
    first = await Staff.get(userid=FACTORY)
    second = await Staff.create(
        userid="wuchangzhang", name="吴厂长", roles=[Role.FACTORY.value], org_unit_id=first.org_unit_id
    )
    results = await asyncio.gather(
        move_piece(actor=first, piece=await OrderPiece.get(id=pieces[0].id), step=PIECE["start"]),
        move_piece(actor=second, piece=await OrderPiece.get(id=pieces[0].id), step=PIECE["start"]),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 1, results
    assert "已被改为：生产中" in refused[0].message or "当前状态：生产中" in refused[0].message
    assert (await OrderPiece.get(id=pieces[0].id)).state == PieceState.IN_PRODUCTION


async def test_an_admin_creates_and_revokes_a_token_on_the_page(world: World) -> None:
    page = f"{world.relay_url}/h5/admin/tokens"
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(page) as resp:
            assert resp.status == 403
    async with world.browser_session("wangzong") as http:
        async with http.get(page) as resp:
            html = await resp.text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "name": "工厂 MES", "scope": "pieces:write"}
        async with http.post(page, data=form) as resp:
            html = await resp.text()
        secret = re.search(r'id="secret" value="([^"]+)"', html)
        assert secret is not None and "令牌只显示这一次" in html
        token = await ServiceToken.get(name="工厂 MES")
        assert token.scopes == "pieces:write" and token.secret_hash != secret.group(1)
        async with http.get(page) as resp:
            assert secret.group(1) not in await resp.text()  # shown once
        async with http.post(page, data={"csrf": csrf.group(1), "name": "", "scope": "pieces:write"}) as resp:
            assert resp.status == 400 and "请填写令牌名称" in await resp.text()
        async with http.post(page, data={"csrf": csrf.group(1), "revoke": str(token.id)}) as resp:
            assert "令牌 工厂 MES 已吊销" in await resp.text()
    assert (await ServiceToken.get(id=token.id)).revoked_at is not None


async def test_the_piece_table_decides_who_moves_what(world: World) -> None:
    """The permission matrix of the piece lifecycle: every row, every piece state, members of each
    kind, the factory's token with and without the scope. Allowed exactly when the row's role (in its
    scope) meets a source state; a refusal changes nothing."""
    order, pieces = await released(world)
    piece = pieces[0]
    admin = await Staff.get(userid="wangzong")
    actors = {
        "factory": await Staff.get(userid=FACTORY),  # the company's top unit: every order
        "far_factory": await member("gzfactory", Role.FACTORY, FAR),  # another region's factory
        "warehouse": await Staff.get(userid=WAREHOUSE),
        "sales": await Staff.get(userid="zhangxiaoshou"),
        "manager": await Staff.get(userid="chendianzhang"),
        "token": (await create_token(actor=admin, name="mes", scopes=["pieces:write"])).token,
        "read_token": (await create_token(actor=admin, name="board", scopes=["production:read"])).token,
    }
    may = {
        "factory": {Role.FACTORY},
        "far_factory": set(),
        "warehouse": {Role.WAREHOUSE},
        "sales": set(),
        "manager": set(),
        "token": {Role.FACTORY},
        "read_token": set(),
    }
    checked = 0
    for t in PIECE:
        if t.automatic:
            continue
        for state in PieceState:
            await OrderPiece.filter(id=piece.id).update(state=state)
            await piece.refresh_from_db()
            for name, actor in actors.items():
                expected = bool(may[name] & set(t.roles())) and state in t.source
                try:
                    await PIECE.check(t, actor, piece, order)
                    allowed = True
                except (Conflict, NotAllowed):
                    allowed = False
                assert allowed == expected, (t.name, state, name)
                checked += 1
    assert checked == 4 * len(PieceState) * len(actors)
    # The factory has no say over the order itself: goods-in is the warehouse's.
    assert not await ORDER.may(ORDER["receive_item"], actors["factory"], order)
    assert (await Order.get(id=order.id)).state == OrderState.CONFIRMED


async def test_an_order_not_fully_in_after_the_threshold_alerts_the_managers(world: World) -> None:
    order, _ = await released(world)
    days = world.config.alerts.not_in_days
    await Order.filter(id=order.id).update(confirmed_at=utcnow() - timedelta(days=days, hours=1))
    await alerts.scan()
    await world.settle()
    alert = await Alert.get(order_id=order.id, rule="not_in")
    assert alert.detail == f"客户确认已超过 {days} 天，产品仍未全部到仓"
    assert world.card("chendianzhang", "预警：确认后未到齐").desc.startswith(f"订单 {NUMBER}")


async def test_the_factory_finds_its_commands_and_page_on_the_help_card(world: World) -> None:
    await world.say(FACTORY, "帮助")
    card = world.card(FACTORY, "接力 · 可以这样和我说")
    assert "生产 — 待生产的订单；扫码或发生产编号 — 推进产品" in card.card["quote_area"]["quote_text"]
    jumps = {j["title"]: j["url"] for j in card.card["jump_list"]}
    assert "%2Fh5%2Fproduction" in jumps["生产进度"] or "/h5/production" in jumps["生产进度"]
