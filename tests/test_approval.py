"""The price review (审核): a discount beyond the threshold or a contract below the floor waits for the
store's manager, then the region's, before the order may go to production. Cards through the emulator;
the 驳回 page in Chromium is tests/browser/test_approval_page.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pytest
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from models import (
    Approval,
    ApprovalState,
    Order,
    OrderEvent,
    OrderItem,
    OrderState,
    OutboxMessage,
    PaymentKind,
    PaymentMethod,
    Role,
)
from tests.support import World
from tests.test_lifecycle_matrix import actors, attempt
from tests.test_lifecycle_matrix import snapshot as matrix_snapshot
from tests.test_permissions import FAR, STORE, at_state, member, seeded, snapshot
from workflow.approval import approve_prices, reject_prices, review_prices, review_reasons
from workflow.changes import cancel_order
from workflow.errors import Conflict, NotAllowed
from workflow.order_lifecycle import ORDER
from workflow.payments import confirm_design
from workflow.queue import queue_for
from workflow.timeline import timeline

SALES, STORE_MANAGER, REGION_MANAGER, TOP = "zhangxiaoshou", "chendianzhang", "liujingli", "wangzong"


async def price(order: Order, lines: Sequence[tuple[str, str]], *, after_confirmation: bool = False) -> Order:
    """What the priced order form does: each line's list and agreed unit price, the order's totals, and
    the review asked in the same transaction."""
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    assert len(items) == len(lines)
    async with in_transaction():
        total_list = total = Decimal("0")
        for item, (list_price, unit_price) in zip(items, lines, strict=True):
            amount = Decimal(unit_price) * item.quantity
            await OrderItem.filter(id=item.id).update(
                list_price=Decimal(list_price), unit_price=Decimal(unit_price), amount=amount
            )
            total_list += Decimal(list_price) * item.quantity
            total += amount
        await Order.filter(id=order.id).update(list_amount=total_list, contract_amount=total)
        await review_prices(actor=await seeded(SALES), order=order, after_confirmation=after_confirmation)
    await order.refresh_from_db()
    return order


async def confirm(order: Order) -> Order:
    return await confirm_design(
        actor=await seeded(SALES),
        order=order,
        contract_amount=order.contract_amount or Decimal("1000"),
        first_payment=Decimal("500"),
        method=PaymentMethod.CASH,
        kind=PaymentKind.DEPOSIT,
    )


def quote(world: World, userid: str, title: str) -> str:
    return str(world.card(userid, title).card.get("quote_area", {}).get("quote_text", ""))


@pytest.fixture
def floor_5000(world: World) -> Iterator[None]:
    rt = runtime()
    before = rt.config
    rt.config = before.replace(money={"contract_floor": 5000.0})
    try:
        yield
    finally:
        rt.config = before


def test_reasons_read_as_sentences(world: World) -> None:
    order = Order(list_amount=Decimal("12500"), contract_amount=Decimal("10000"))
    items = [
        OrderItem(list_price=Decimal("2500"), unit_price=Decimal("2500"), quantity=1),
        OrderItem(list_price=Decimal("10000"), unit_price=Decimal("7500"), quantity=1),
        OrderItem(list_price=None, unit_price=None, quantity=1),  # unpriced: ignored
    ]
    assert review_reasons(order, items) == ["第 2 行折扣 25%（超过 15%）", "整单折扣 20%（超过 15%）"]
    # Exactly at the threshold is within it.
    assert review_reasons(Order(list_amount=Decimal("100"), contract_amount=Decimal("85")), []) == []


async def test_over_threshold_rejected_resubmitted_approved_at_store_then_region(world: World) -> None:
    order = await at_state("AP-FLOW", OrderState.DESIGNED)
    order = await price(order, [("10000", "7500")])
    assert order.approval_state == ApprovalState.PENDING
    await world.settle()
    # The store's manager is asked, with the figures; the region's not yet.
    card = world.card(STORE_MANAGER, "价格待审核")
    assert card.fields["合同金额"] == "7,500.00 元" and card.fields["整单折扣"] == "25%"
    assert "第 1 行折扣 25%（超过 15%）" in quote(world, STORE_MANAGER, "价格待审核")
    assert card.button_texts == ["同意", "驳回（填写原因）"]
    assert "价格待审核" not in [c.title for c in world.emu.cards(REGION_MANAGER)]
    # Production waits.
    with pytest.raises(Conflict, match="价格待审核，审核通过后才能投产"):
        await confirm(order)
    assert "confirm" not in {t.name for t in await ORDER.available(await seeded(SALES), order)}

    # 驳回 with the reason (the page's form; tests/browser shows it on the phone): sales is told why.
    await reject_prices(actor=await seeded(STORE_MANAGER), order=order, reason="折扣太大，最多八五折")
    await world.settle()
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.REJECTED
    assert "折扣太大，最多八五折" in quote(world, SALES, "价格被驳回")
    assert world.card(SALES, "价格被驳回").card["jump_list"][0]["title"] == "修改价格"
    assert world.card(STORE_MANAGER, "价格待审核").replace_text is None  # the decider's own copy: by its tap
    with pytest.raises(Conflict, match="价格已被驳回"):
        await confirm(order)

    # New prices, still beyond the threshold: submitted again.
    order = await price(order, [("10000", "8000")])
    assert order.approval_state == ApprovalState.PENDING
    await world.settle()
    second = world.card(STORE_MANAGER, "价格待审核")
    assert second.msgid != card.msgid and second.fields["整单折扣"] == "20%"
    await world.tap(STORE_MANAGER, second, "同意")
    assert world.card(STORE_MANAGER, "价格待审核").replace_text == "已同意（陈店长）"
    # Passed on to the region.
    region_card = world.card(REGION_MANAGER, "价格待审核")
    assert region_card.fields["审核"] == "区域审核（华东区）"
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.PENDING
    await world.tap(REGION_MANAGER, region_card, "同意")
    order = await Order.get(id=order.id)
    assert order.approval_state == ApprovalState.APPROVED
    assert "刘经理 审核通过" in quote(world, SALES, "价格审核通过")

    lines = await timeline(order)
    assert any("张晓燕 提交价格审核（门店 上海徐汇店：陈店长）：第 1 行折扣 25%（超过 15%）" in line for line in lines)
    assert any("陈店长 驳回价格（门店审核（上海徐汇店））：折扣太大，最多八五折" in line for line in lines)
    assert any("陈店长 审核通过（门店审核（上海徐汇店）），转区域 华东区 审核" in line for line in lines)
    assert any("刘经理 审核通过（区域审核（华东区）），价格审核通过" in line for line in lines)
    # And now it may go to production.
    await confirm(order)
    assert (await Order.get(id=order.id)).state == OrderState.CONFIRMED


async def test_below_the_floor(world: World, floor_5000: None) -> None:
    order = await price(await at_state("AP-FLOOR", OrderState.DESIGNED), [("4000", "4000")])
    assert order.approval_state == ApprovalState.PENDING
    await world.settle()
    assert "合同金额 4,000.00 元低于底价 5,000.00 元" in quote(world, STORE_MANAGER, "价格待审核")
    # Raised above the floor and within the threshold: the review is no longer needed.
    order = await price(order, [("6000", "5500")])
    assert order.approval_state is None
    await world.settle()
    assert world.card(STORE_MANAGER, "价格待审核").replace_text == "价格已修改，已重新提交"
    assert any("修改价格，无需审核" in line for line in await timeline(order))
    await confirm(order)


async def test_within_the_threshold_nothing_is_asked(world: World) -> None:
    order = await price(await at_state("AP-WITHIN", OrderState.DESIGNED), [("10000", "8500")])
    assert order.approval_state is None
    assert not await Approval.filter(order_id=order.id).exists()
    await world.settle()
    assert "价格待审核" not in [c.title for c in world.emu.cards(STORE_MANAGER)]
    await confirm(order)


async def test_a_change_after_confirmation_is_reviewed(world: World) -> None:
    order = await price(await at_state("AP-AFTER", OrderState.DESIGNED), [("10000", "9000")])
    order = await confirm(order)
    order = await price(order, [("10000", "9500")], after_confirmation=True)
    assert order.approval_state == ApprovalState.PENDING
    await world.settle()
    assert "客户确认后修改价格" in quote(world, STORE_MANAGER, "价格待审核")


async def test_who_may_decide(world: World) -> None:
    order = await price(await at_state("AP-WHO", OrderState.DESIGNED), [("10000", "5000")])
    before = await snapshot(order)
    salesperson = await seeded(SALES)
    far_manager = await member("far-manager-ap", Role.MANAGER, FAR)
    with pytest.raises(NotAllowed, match="只有管理层可以这样操作"):
        await approve_prices(actor=salesperson, order=order)
    with pytest.raises(NotAllowed, match="订单 AP-WHO 不在你负责的范围内"):
        await approve_prices(actor=far_manager, order=order)
    with pytest.raises(NotAllowed, match="订单 AP-WHO 不在你负责的范围内"):
        await reject_prices(actor=far_manager, order=order, reason="不行")
    # The region's manager covers the order, but the store's level decides first.
    with pytest.raises(Conflict, match="正待上海徐汇店审核，你不是这一级的审核人"):
        await approve_prices(actor=await seeded(REGION_MANAGER), order=order)
    # Another manager of the same store may decide it.
    deputy = await member("deputy-ap", Role.MANAGER, STORE)
    with pytest.raises(Exception, match="请填写驳回原因"):
        await reject_prices(actor=deputy, order=order, reason="  ")
    assert await snapshot(order) == before
    assert (await Order.get(id=order.id)).approval_state == ApprovalState.PENDING
    offered = {t.name for t in await ORDER.available(deputy, order)}
    assert {"approve", "reject"} <= offered
    assert not {"approve", "reject"} & {t.name for t in await ORDER.available(await seeded(REGION_MANAGER), order)}


async def test_two_approvers_at_once_one_wins(world: World) -> None:
    order = await price(await at_state("AP-RACE", OrderState.DESIGNED), [("10000", "5000")])
    deputy = await member("deputy-race", Role.MANAGER, STORE)
    await world.settle()
    card = world.card(STORE_MANAGER, "价格待审核")
    results = await asyncio.gather(
        approve_prices(actor=await seeded(STORE_MANAGER), order=await Order.get(id=order.id), approval_id=None),
        approve_prices(actor=deputy, order=await Order.get(id=order.id), approval_id=None),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict), results
    store_level = await Approval.filter(order_id=order.id, level="store").order_by("id")
    assert [a.state for a in store_level] == [ApprovalState.APPROVED]
    assert await Approval.filter(order_id=order.id, level="region", state=ApprovalState.PENDING).count() == 1
    # The loser's card, tapped late: told who decided.
    await world.tap(STORE_MANAGER, card, "同意")
    decided_by = (await Approval.get(id=store_level[0].id).prefetch_related("decided_by")).decided_by
    assert decided_by is not None
    assert world.last_text(STORE_MANAGER) == f"这次审核已由 {decided_by.name} 同意"
    assert world.card(STORE_MANAGER, "价格待审核").replace_text == f"已由{decided_by.name}同意"


async def test_a_card_decides_the_prices_it_showed(world: World) -> None:
    """同意 on a card is for the prices on it: changed since (asked again, at the same store), it decides
    nothing, and the new prices wait for their own 同意."""
    order = await price(await at_state("AP-STALE", OrderState.DESIGNED), [("10000", "7500")])
    await world.settle()
    first = world.card(STORE_MANAGER, "价格待审核")
    order = await price(order, [("10000", "7000")])
    await world.tap(STORE_MANAGER, first, "同意")
    assert world.last_text(STORE_MANAGER) == "价格已修改，这次审核已重新提交"
    store_level = await Approval.filter(order_id=order.id, level="store").order_by("id")
    assert [(a.state, a.superseded) for a in store_level] == [
        (ApprovalState.PENDING, True),
        (ApprovalState.PENDING, False),
    ]
    second = world.card(STORE_MANAGER, "价格待审核")
    assert second.fields["合同金额"] == "7,000.00 元"
    # Another order's review, named on this order's page: refused, nothing decided.
    other = await price(await at_state("AP-OTHER", OrderState.DESIGNED), [("10000", "7500")])
    elsewhere = await Approval.get(order_id=other.id)
    with pytest.raises(Conflict, match=f"订单 {order.number} 没有这次审核"):
        await approve_prices(actor=await seeded(STORE_MANAGER), order=order, approval_id=elsewhere.id)
    assert (await Approval.get(id=elsewhere.id)).state == ApprovalState.PENDING
    assert (await Approval.get(id=store_level[1].id)).state == ApprovalState.PENDING
    await world.tap(STORE_MANAGER, second, "同意")
    assert (await Approval.get(id=store_level[1].id)).state == ApprovalState.APPROVED


async def test_the_approvers_queue_lists_the_review(world: World) -> None:
    order = await price(await at_state("AP-QUEUE", OrderState.MEASURED), [("10000", "5000")])
    items = [i for i in await queue_for(await seeded(STORE_MANAGER)) if i.number == order.number]
    assert [(i.step, i.path) for i in items] == [("价格审核", f"/h5/orders/{order.number}/approval")]
    assert not [i for i in await queue_for(await seeded(REGION_MANAGER)) if i.number == order.number]
    await approve_prices(actor=await seeded(STORE_MANAGER), order=order)
    assert not [i for i in await queue_for(await seeded(STORE_MANAGER)) if i.number == order.number]
    assert [i for i in await queue_for(await seeded(REGION_MANAGER)) if i.number == order.number]
    assert await OrderEvent.filter(order_id=order.id, kind="approval_approved").count() == 1


async def test_no_manager_at_a_level_skips_it(world: World) -> None:
    store = await seeded(STORE_MANAGER)
    await type(store).filter(id=store.id).update(active=False)
    order = await price(await at_state("AP-SKIP", OrderState.DESIGNED), [("10000", "5000")])
    waiting = await Approval.get(order_id=order.id, state=ApprovalState.PENDING)
    assert waiting.level == "region"
    await world.settle()
    assert world.card(REGION_MANAGER, "价格待审核")
    await seeded(TOP)  # the top unit's managers decide only when no level has one


async def test_matrix_of_a_review_waiting(world: World) -> None:
    """The generated matrix's members (every role, near and far) against an order whose prices wait for
    the store: only the store's manager may approve or reject, nobody may confirm, and refusals change
    nothing; the cards an approval sends go to exactly those who may press them."""
    order = await price(await at_state("AP-MATRIX", OrderState.DESIGNED), [("10000", "5000")])
    untouched = await matrix_snapshot(order)
    last = await OutboxMessage.all().order_by("-id").first()
    steps = [ORDER[n] for n in ("approve", "reject", "confirm")]
    for name, actor in (await actors()).items():
        if actor is None:
            continue
        offered = {t.name for t in await ORDER.available(actor, order)} & {t.name for t in steps}
        accepted = {t.name for t in steps if await attempt(t, actor, order, untouched, last)}
        assert accepted == offered, name
        assert accepted == ({"approve", "reject"} if name == "near-manager" else set()), name


async def test_a_cancel_closes_the_review_card(world: World) -> None:
    order = await price(await at_state("AP-CANCEL", OrderState.DESIGNED), [("10000", "5000")])
    await cancel_order(actor=await seeded(SALES), order=order, reason="客户不装了")
    await world.settle()
    assert world.card(STORE_MANAGER, "价格待审核").replace_text == "订单已取消"
    with pytest.raises(Conflict, match="当前状态：已取消"):
        await approve_prices(actor=await seeded(STORE_MANAGER), order=order)
