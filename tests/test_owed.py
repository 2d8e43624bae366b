"""The paid total stored on each order (workflow/owed.py): equal to its standing payments after every
payment recorded, voided or corrected, two recorded at once included; filled by migration 0017 on a
database that already has payments; what 未收清, sales' queue and the overdue alert read."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from infra.timeutil import utcnow
from models import Order, OrderState, Payment, PaymentKind, PaymentMethod
from relay.db import close_db, open_db
from tests.support import World
from tests.test_permissions import at_state
from tests.upgrade import XDIST_GROUP
from workflow import alerts
from workflow.errors import Invalid
from workflow.finance import confirm_payment
from workflow.owed import owing
from workflow.payments import correct_payment, record_payment, void_payment
from workflow.queue import queue_for
from workflow.receivables import receivables
from workflow.stats import parse_period, stats_for

SALES = "zhangxiaoshou"
FINANCE = "qiankuaiji"


async def stored_and_summed(order: Order) -> tuple[Decimal, Decimal]:
    """The order's stored paid total, and its standing payments summed here."""
    await order.refresh_from_db()
    standing = await Payment.filter(order_id=order.id, voided_at__isnull=True).values_list("amount", flat=True)
    return order.paid_amount, sum((Decimal(a) for a in standing), Decimal("0.00"))


async def test_the_paid_total_follows_every_payment(world: World) -> None:
    order = await at_state("OWED-1", OrderState.CONFIRMED)  # contract 12800, deposit 3000
    assert await stored_and_summed(order) == (Decimal("3000.00"), Decimal("3000.00"))
    sales = await world.staff(SALES)

    balance = await record_payment(
        actor=sales, order=order, amount=Decimal("2000.50"), method=PaymentMethod.CASH, kind=PaymentKind.BALANCE
    )
    assert await stored_and_summed(order) == (Decimal("5000.50"), Decimal("5000.50"))

    deposit = await Payment.filter(order_id=order.id).order_by("id").first()
    assert deposit is not None
    await void_payment(actor=sales, order=order, payment_id=deposit.id, reason="记错了订单")
    assert await stored_and_summed(order) == (Decimal("2000.50"), Decimal("2000.50"))

    await correct_payment(
        actor=sales,
        order=order,
        payment_id=balance.id,
        amount=Decimal("1500.25"),
        method=PaymentMethod.WECHAT,
        kind=PaymentKind.BALANCE,
        reason="金额输错",
    )
    assert await stored_and_summed(order) == (Decimal("1500.25"), Decimal("1500.25"))

    # Confirming a payment moves no money; voiding one twice is refused and counts it out once.
    corrected = await Payment.filter(order_id=order.id, voided_at__isnull=True).first()
    assert corrected is not None
    await confirm_payment(actor=await world.staff(FINANCE), order=order, payment_id=corrected.id)
    assert await stored_and_summed(order) == (Decimal("1500.25"), Decimal("1500.25"))

    # What the lists show comes from it: 未收清 and the finance card's 登记后未收.
    rows = await receivables(await world.staff(FINANCE))
    assert [(r.number, r.paid, r.outstanding) for r in rows] == [("OWED-1", Decimal("1500.25"), Decimal("11299.75"))]
    await world.settle()
    card = [c for c in world.emu.cards(FINANCE) if c.title == "收款待确认"][-1]
    assert card.fields["登记后未收"] == "¥11299.75"


async def test_two_payments_recorded_at_once_both_count(world: World) -> None:
    """Two payments recorded on the same order at the same moment (on PostgreSQL, two connections in two
    transactions): the stored total has both."""
    order = await at_state("OWED-2", OrderState.CONFIRMED)
    sales = await world.staff(SALES)

    async def pay(amount: str) -> Payment:
        return await record_payment(
            actor=sales,
            order=await Order.get(id=order.id),
            amount=Decimal(amount),
            method=PaymentMethod.CASH,
            kind=PaymentKind.BALANCE,
        )

    await asyncio.gather(pay("4000.10"), pay("2999.95"))
    assert await stored_and_summed(order) == (Decimal("10000.05"), Decimal("10000.05"))

    # Two at once that together pass the contract (2799.95 left): one is taken, the other refused and
    # nothing of it kept, whichever came second.
    results = await asyncio.gather(pay("2000.00"), pay("1500.00"), return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Invalid) and "超过未收金额" in str(refused[0])
    taken = next(r for r in results if isinstance(r, Payment))
    assert await Payment.filter(order_id=order.id).count() == 4
    assert await stored_and_summed(order) == (Decimal("10000.05") + taken.amount,) * 2


async def test_what_is_owed_is_read_from_the_stored_total(world: World) -> None:
    """Sales' queue (登记收款 while something is owed), the overdue-balance alert and the managers' 未收清
    all go by the standing payments: a voided payment is owed again (the queue used to count it paid)."""
    order = await at_state("OWED-3", OrderState.INSTALLED)
    waiting = await at_state("OWED-4", OrderState.CONFIRMED)
    sales = await world.staff(SALES)
    full = await record_payment(
        actor=sales, order=order, amount=Decimal("9800"), method=PaymentMethod.CASH, kind=PaymentKind.FULL
    )
    rest = await record_payment(
        actor=sales, order=waiting, amount=Decimal("9800"), method=PaymentMethod.CASH, kind=PaymentKind.FULL
    )
    days = world.config.alerts.balance_overdue_days
    await Order.filter(id=order.id).update(installed_at=utcnow() - timedelta(days=days + 1))
    month = parse_period("本月")
    boss = await world.staff("wangzong")
    assert (await stats_for(boss, month)).total.money.outstanding_orders == 0  # type: ignore[union-attr]
    assert "OWED-4" not in [i.number for i in await queue_for(sales)]
    await alerts.scan()
    await world.settle()
    assert all(c.title != "预警：尾款逾期未收" for c in world.emu.cards(FINANCE))

    await void_payment(actor=sales, order=order, payment_id=full.id, reason="对方退款")
    await void_payment(actor=sales, order=waiting, payment_id=rest.id, reason="对方退款")
    money = (await stats_for(boss, month)).total.money
    assert money is not None and (money.outstanding, money.outstanding_orders) == (Decimal("19600.00"), 2)
    assert ("OWED-4", "登记收款") in [(i.number, i.step) for i in await queue_for(sales)]
    await alerts.scan()
    await world.settle()
    card = world.card(FINANCE, "预警：尾款逾期未收")
    assert "仍有 9800.00 元未收" in card.card["quote_area"]["quote_text"]


# Migration 0017 on a database that already had payments (tests/upgrade.py: BEFORE_PAID_TOTAL).


@pytest.mark.xdist_group(XDIST_GROUP)
async def test_the_migration_fills_the_paid_total_from_the_payments(upgraded_database: str) -> None:
    await open_db(upgraded_database)
    try:
        old = Order.filter(number__startswith="OLD-")
        paid = dict(await old.order_by("id").values_list("number", "paid_amount"))
        assert paid == {"OLD-1": Decimal("4234.56"), "OLD-2": Decimal("0.30"), "OLD-3": Decimal("0.00")}
        # 0.10 + 0.20 is exactly the contract's 0.30 (SQLite sums the text as floating point): not owed.
        assert await owing(old).values_list("number", flat=True) == ["OLD-1"]
    finally:
        await close_db()
