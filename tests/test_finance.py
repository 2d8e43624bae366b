"""Finance (财务): a recorded payment waits for finance, who confirms it from the card or the page; invoices
against the contract; the receipt PDF; the 未收清 list and its CSV; the overdue-balance alert."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from infra.timeutil import utcnow
from models import (
    AuditAction,
    AuditEntry,
    EventKind,
    Invoice,
    Order,
    OrderEvent,
    OrderItem,
    OrderState,
    Payment,
    PaymentKind,
    PaymentMethod,
    Role,
)
from tests.support import World, form_errors
from tests.test_measure_slice import csrf
from tests.test_permissions import FAR, STORE, at_state, member
from workflow import alerts
from workflow.errors import Conflict, NotAllowed, NotFound
from workflow.finance import confirm_payment
from workflow.payments import record_payment, void_payment
from workflow.queue import queue_for
from workflow.receivables import receivables

FINANCE = "qiankuaiji"  # 钱会计, finance of 华东区 (the demo's staff)
SALES = "zhangxiaoshou"


async def deposit_of(order: Order) -> Payment:
    payment = await Payment.filter(order_id=order.id).order_by("id").first()
    assert payment is not None
    return payment


async def test_finance_confirms_a_recorded_payment_from_its_card(world: World) -> None:
    order = await at_state("FIN-CARD", OrderState.CONFIRMED)
    await world.settle()
    deposit = await deposit_of(order)
    assert deposit.confirmed_at is None  # sales recorded it: 待确认
    card = world.card(FINANCE, "收款待确认")
    assert card.desc.startswith("订单 FIN-CARD")
    assert card.fields["金额"] == "¥3000.00" and card.fields["登记人"] == "张晓燕"
    assert card.button_texts == ["确认到账"]

    await world.tap(FINANCE, card, "确认到账")
    await deposit.refresh_from_db()
    assert deposit.confirmed_at is not None and deposit.confirmed_by_id == (await world.staff(FINANCE)).id
    assert world.card(FINANCE, "收款待确认").replace_text == "已由钱会计确认到账"
    confirmed = await OrderEvent.filter(order_id=order.id, kind=EventKind.PAYMENT_CONFIRMED).first()
    assert confirmed is not None and confirmed.payload == {"amount": "3000.00"}
    # The confirmed deposit was all that held the confirmed order back: it goes to production.
    released = await OrderEvent.filter(order_id=order.id).order_by("-id").first()
    assert released is not None and released.kind == EventKind.RELEASED
    await order.refresh_from_db()
    assert order.production_order_number is not None

    # Another finance member (made after the card went out) confirming it again is told who did.
    other = await member("caiwu2", Role.FINANCE, STORE)
    with pytest.raises(Conflict, match="已由 钱会计 确认到账"):
        await confirm_payment(actor=other, order=order, payment_id=deposit.id)

    # The order page and the payments page read 已确认 with who confirmed it.
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/FIN-CARD") as resp:
            html = await resp.text()
    assert "已确认（钱会计" in html


async def test_two_confirming_at_once_one_wins(world: World) -> None:
    other = await member("caiwu2", Role.FINANCE, STORE)
    order = await at_state("FIN-RACE", OrderState.CONFIRMED)
    deposit = await deposit_of(order)
    first = await world.staff(FINANCE)
    results = await asyncio.gather(
        confirm_payment(actor=first, order=order, payment_id=deposit.id),
        confirm_payment(actor=other, order=order, payment_id=deposit.id),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Payment) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert await OrderEvent.filter(order_id=order.id, kind="payment_confirmed").count() == 1


async def test_who_may_confirm(world: World) -> None:
    order = await at_state("FIN-WHO", OrderState.CONFIRMED)
    deposit = await deposit_of(order)
    sales = await world.staff(SALES)
    far = await member("far-finance", Role.FINANCE, FAR)
    with pytest.raises(NotAllowed, match="只有财务可以这样操作"):
        await confirm_payment(actor=sales, order=order, payment_id=deposit.id)
    with pytest.raises(NotAllowed, match="不在你负责的范围内"):
        await confirm_payment(actor=far, order=order, payment_id=deposit.id)
    # Another region's finance cannot even open the order's page.
    async with world.signed_in(far.userid) as http:
        async with http.get(f"{world.relay_url}/h5/orders/FIN-WHO/confirm-payments") as resp:
            assert resp.status == 404
    # The sales member's card tap is not theirs to make.
    await deposit.refresh_from_db()
    assert deposit.confirmed_at is None


async def test_a_voided_payment_cannot_be_confirmed_and_its_card_closes(world: World) -> None:
    order = await at_state("FIN-VOID", OrderState.CONFIRMED)
    deposit = await deposit_of(order)
    sales = await world.staff(SALES)
    await void_payment(actor=sales, order=order, payment_id=deposit.id, reason="记错了")
    await world.settle()
    assert world.card(FINANCE, "收款待确认").replace_text == "收款已作废"
    with pytest.raises(Conflict, match="已作废"):
        await confirm_payment(actor=await world.staff(FINANCE), order=order, payment_id=deposit.id)
    with pytest.raises(NotFound):
        await confirm_payment(actor=await world.staff(FINANCE), order=order, payment_id=deposit.id + 999)


async def test_the_page_confirms_and_the_queue_lists_what_waits(world: World) -> None:
    order = await at_state("FIN-PAGE", OrderState.CONFIRMED)
    sales = await world.staff(SALES)
    await record_payment(
        actor=sales, order=order, amount=Decimal("800"), method=PaymentMethod.CASH, kind=PaymentKind.BALANCE
    )
    finance = await world.staff(FINANCE)
    waiting = [(i.number, i.step, i.path) for i in await queue_for(finance)]
    assert waiting == [("FIN-PAGE", "确认到账", "/h5/orders/FIN-PAGE/confirm-payments")] * 2
    async with world.browser_session(FINANCE) as http:
        async with http.get(f"{world.relay_url}/h5/finance/payments") as resp:
            html = await resp.text()
            assert resp.status == 200 and html.count('class="pending-payment"') == 2
        url = f"{world.relay_url}/h5/orders/FIN-PAGE/confirm-payments"
        async with http.get(url) as resp:
            html = await resp.text()
            assert html.count("confirm-payment") == 2
        deposit = await deposit_of(order)
        async with http.post(url, data={"csrf": csrf(html), "payment_id": str(deposit.id)}) as resp:
            assert resp.status == 200
            html = await resp.text()
            assert "已确认到账 ¥3000.00" in html
    assert [(i.number, i.step) for i in await queue_for(finance)] == [("FIN-PAGE", "确认到账")]
    # Sales' list reads 待确认 for the later one.
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/FIN-PAGE/payments") as resp:
            html = await resp.text()
    assert "已确认（钱会计" in html and "待确认" in html


# Invoices (发票)

GOOD = {"number": "04400001", "amount": "5000.00", "issued_on": "", "buyer_tax_id": "91310000MA1FL8XQ30"}
BAD_INVOICES = [
    ({"buyer_tax_id": "91310000MA1FL8XQ3"}, "buyer_tax_id", "税号应为 15、18 或 20 位数字或大写字母"),
    ({"buyer_tax_id": "91310000ma1fl8xq30"}, "buyer_tax_id", "税号应为 15、18 或 20 位数字或大写字母"),
    ({"buyer_tax_id": ""}, "buyer_tax_id", "请填写购买方税号"),
    ({"amount": "100.005"}, "amount", "金额最多两位小数"),
    ({"amount": "-5"}, "amount", "金额应大于 0"),
    ({"amount": "0"}, "amount", "金额应大于 0"),
    ({"amount": "12800.01"}, "amount", "开票总额不能超过合同金额 12800.00 元"),
    ({"number": ""}, "number", "请填写发票号码"),
    ({"issued_on": "2026-13-01"}, "issued_on", "日期格式不正确"),
]


@pytest.mark.parametrize(
    ("change", "field", "message"), BAD_INVOICES, ids=[f[1] + str(i) for i, f in enumerate(BAD_INVOICES)]
)
async def test_a_bad_invoice_is_refused_and_changes_nothing(
    world: World, change: dict[str, str], field: str, message: str
) -> None:
    await at_state("FIN-INV", OrderState.CONFIRMED)
    url = f"{world.relay_url}/h5/orders/FIN-INV/invoices"
    async with world.browser_session(FINANCE) as http:
        async with http.get(url) as resp:
            token = csrf(await resp.text())
        async with http.post(url, data={**GOOD, **change, "csrf": token}) as resp:
            html = await resp.text()
            assert resp.status == 400, html
    assert message in html
    assert f'id="{field}-error" data-error-for="{field}">' in html
    assert await Invoice.all().count() == 0
    assert not await OrderEvent.filter(kind="invoice_issued").exists()


@pytest.mark.parametrize("storage_backend", ["disk", "bucket"])  # the invoice file on both
async def test_invoices_add_up_to_the_contract_and_are_listed(world: World) -> None:
    order = await at_state("FIN-INV2", OrderState.CONFIRMED)
    url = f"{world.relay_url}/h5/orders/FIN-INV2/invoices"
    async with world.browser_session(FINANCE) as http:
        async with http.get(url) as resp:
            token = csrf(await resp.text())
        form = aiohttp.FormData()
        for name, value in {**GOOD, "amount": "12000", "csrf": token}.items():
            form.add_field(name, value)
        form.add_field("file", b"%PDF-1.4\n% an invoice\n", filename="发票.pdf", content_type="application/pdf")
        async with http.post(url, data=form) as resp:
            assert resp.status == 200
            html = await resp.text()
            assert "已开具发票 04400001" in html
        invoice = await Invoice.get(number="04400001")
        async with http.get(f"{url}/{invoice.id}/file") as resp:
            assert resp.status == 200 and resp.content_type == "application/pdf"
            assert (await resp.read()).startswith(b"%PDF-1.4")
        async with http.post(url, data={**GOOD, "number": "04400002", "amount": "800.01", "csrf": token}) as resp:
            assert resp.status == 400
            assert "最多还可开 800.00 元" in form_errors(await resp.text())
        async with http.post(url, data={**GOOD, "amount": "1", "csrf": token}) as resp:
            assert resp.status == 400
            assert "发票号码 04400001 已登记" in await resp.text()
    assert [(i.number, i.amount) for i in await Invoice.filter(order_id=order.id)] == [("04400001", Decimal("12000"))]
    # Voided (kept, marked), it no longer counts: the whole contract may be invoiced again.
    async with world.browser_session(FINANCE) as http:
        async with http.post(url, data={"action": "void", "invoice_id": str(invoice.id), "csrf": token}) as resp:
            assert resp.status == 400 and "请填写作废的原因" in await resp.text()
        void = {"action": "void", "invoice_id": str(invoice.id), "reason": "抬头开错", "csrf": token}
        async with http.post(url, data=void) as resp:
            assert "已作废发票 04400001" in await resp.text()
        async with http.post(url, data=void) as resp:
            assert resp.status == 409 and "发票 04400001 已作废" in await resp.text()
        async with http.post(url, data={**GOOD, "number": "04400002", "amount": "12800", "csrf": token}) as resp:
            assert resp.status == 200
    # Sales cannot issue one (the row is finance's) but sees it on the order page.
    async with world.browser_session(SALES) as http:
        async with http.post(url, data={**GOOD, "number": "X1", "amount": "1", "csrf": token}) as resp:
            assert resp.status == 403
        async with http.get(f"{world.relay_url}/h5/orders/FIN-INV2") as resp:
            assert "发票号码 04400001 · ¥12000.00" in await resp.text()
    # An installer sees the order but not its invoices, nor their files.
    async with world.browser_session("chenanzhuang") as http:
        async with http.get(f"{url}/{invoice.id}/file") as resp:
            assert resp.status == 404


# Receipts (收据)


def pdf_text(pdf: bytes, tmp_path: Path, resolution: int = 60) -> str:
    """Page 1 rendered to PNG with pdftoppm (it must draw), and the text pdftotext reads."""
    folder = tmp_path / f"pdf{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    source = folder / "receipt.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(resolution), "-f", "1", "-l", "1", str(source), str(folder / "page")],
        check=True,
    )
    png = next(folder.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    out = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True)
    return out.stdout


async def test_the_receipt_pdf_shows_the_lines_and_the_money(world: World, tmp_path: Path) -> None:
    order = await at_state("FIN-RCPT", OrderState.CONFIRMED)
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    # Priced lines are another helper's: written directly here.
    await OrderItem.filter(id=items[0].id).update(
        quantity=2, list_price=Decimal("7000"), unit_price=Decimal("6400"), amount=Decimal("12800")
    )
    await record_payment(
        actor=await world.staff(SALES),
        order=order,
        amount=Decimal("2000.50"),
        method=PaymentMethod.CASH,
        kind=PaymentKind.BALANCE,
    )
    balance = await Payment.filter(order_id=order.id).order_by("-id").first()
    assert balance is not None
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/FIN-RCPT/receipt.pdf?payment={balance.id}") as resp:
            assert resp.status == 200 and resp.content_type == "application/pdf"
            assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
            pdf = await resp.read()
    text = pdf_text(pdf, tmp_path)
    item = items[0]
    for expected in (
        "接力家居",
        "收 据",
        "FIN-RCPT",
        f"SJ-FIN-RCPT-{balance.id}",
        "客户：客户",
        f"{item.series} {item.model}",
        "主卫",
        "¥6,400.00",
        "¥12,800.00",  # the line and the contract
        "¥2,000.50",  # this payment
        "¥5,000.50",  # paid in all
        "¥7,799.50",  # outstanding
    ):
        assert expected in text, (expected, text)
    assert "13900000000" not in text  # never the phone

    # The whole order's receipt, for finance; not for an installer, nor another region's finance.
    async with world.browser_session(FINANCE) as http:
        async with http.get(f"{world.relay_url}/h5/orders/FIN-RCPT/receipt.pdf") as resp:
            assert resp.status == 200
            assert "SJ-FIN-RCPT " in pdf_text(await resp.read(), tmp_path) + " "
    far = await member("far-finance", Role.FINANCE, FAR)
    async with world.signed_in(far.userid) as http:
        async with http.get(f"{world.relay_url}/h5/orders/FIN-RCPT/receipt.pdf") as resp:
            assert resp.status == 404
    measurer = await member("near-designer", Role.DESIGNER, STORE)
    async with world.signed_in(measurer.userid) as http:
        async with http.get(f"{world.relay_url}/h5/orders/FIN-RCPT/receipt.pdf") as resp:
            assert resp.status == 404
            assert "只有订单的销售、财务或管理层可以打印收据" in await resp.text()


# 未收清 and the overdue alert


async def test_receivables_oldest_first_filtered_and_exported(world: World) -> None:
    old = await at_state("FIN-OLD", OrderState.INSTALLED)
    new = await at_state("FIN-NEW", OrderState.CONFIRMED)
    paid = await at_state("FIN-PAID", OrderState.CONFIRMED)
    await record_payment(
        actor=await world.staff(SALES),
        order=paid,
        amount=Decimal("9800"),
        method=PaymentMethod.CASH,
        kind=PaymentKind.FULL,
    )
    long_ago = utcnow() - timedelta(days=45)
    await Order.filter(id=old.id).update(confirmed_at=long_ago - timedelta(days=5), installed_at=long_ago)
    finance = await world.staff(FINANCE)
    await confirm_payment(actor=finance, order=old, payment_id=(await deposit_of(old)).id)
    rows = await receivables(finance)
    assert [(r.number, r.contract, r.paid, r.confirmed, r.outstanding) for r in rows] == [
        ("FIN-OLD", Decimal("12800"), Decimal("3000"), Decimal("3000"), Decimal("9800")),
        ("FIN-NEW", Decimal("12800"), Decimal("3000"), Decimal("0"), Decimal("9800")),
    ]
    assert rows[0].days == 45 and rows[0].since_label == "安装"
    assert new.id == rows[1].order_id

    async with world.browser_session("liujingli") as http:  # a manager over the region
        async with http.get(f"{world.relay_url}/h5/receivables", params={"days": "30"}) as resp:
            html = await resp.text()
            assert resp.status == 200
            assert 'data-number="FIN-OLD"' in html and 'data-number="FIN-NEW"' not in html
        async with http.get(f"{world.relay_url}/h5/receivables/export.csv", params={"days": "30"}) as resp:
            assert resp.content_type == "text/csv"
            table = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        async with http.get(f"{world.relay_url}/h5/receivables", params={"days": "abc"}) as resp:
            assert resp.status == 400
        async with http.get(f"{world.relay_url}/h5/dashboard") as resp:
            html = await resp.text()
            assert 'id="owed"' in html and "¥19600.00" in html
    assert table[0][:7] == ["订单号", "门店", "销售", "合同金额", "已收", "已确认", "未收"]
    assert table[1][:7] == ["FIN-OLD", "上海徐汇店", "张晓燕", "12800.00", "3000.00", "3000.00", "9800.00"]
    assert len(table) == 2
    entry = await AuditEntry.filter(action=AuditAction.RECEIVABLES_EXPORT).first()
    assert entry is not None and entry.detail["rows"] == 1 and entry.detail["filter"] == {"days": "30"}

    # Sales see no such list; another region's manager sees none of these orders, nor may pick this store.
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/receivables") as resp:
            assert resp.status == 403
    far = await member("far-manager", Role.MANAGER, FAR)
    assert await receivables(far) == []
    async with world.signed_in(far.userid) as http:
        async with http.get(f"{world.relay_url}/h5/receivables", params={"store": str(old.org_unit_id)}) as resp:
            assert resp.status == 403


async def test_an_overdue_balance_alerts_finance_once(world: World) -> None:
    order = await at_state("FIN-LATE", OrderState.INSTALLED)
    days = world.config.alerts.balance_overdue_days
    await Order.filter(id=order.id).update(installed_at=utcnow() - timedelta(days=days + 1))
    await alerts.scan()
    await world.settle()
    card = world.card(FINANCE, "预警：尾款逾期未收")
    assert f"安装完成已超过 {days} 天，仍有 9800.00 元未收" in card.card["quote_area"]["quote_text"]
    assert all(c.title != "预警：尾款逾期未收" for c in world.emu.cards("chendianzhang"))
    assert [(i.number, i.step) for i in await queue_for(await world.staff(FINANCE))][-1] == (
        "FIN-LATE",
        "预警：尾款逾期未收",
    )
    cards = len(world.emu.cards(FINANCE))
    await alerts.scan()
    await world.settle()
    assert len(world.emu.cards(FINANCE)) == cards  # once per order
    await world.tap(FINANCE, card, "已处理")
    assert world.card(FINANCE, "预警：尾款逾期未收").replace_text == "已由钱会计处理"
