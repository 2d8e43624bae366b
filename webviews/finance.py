"""Finance's H5 pages (财务): an order's payments to confirm (确认到账), its invoices (开具发票), receipts
as PDF (收据), the 待确认收款 list across the member's part of the company, and 未收清 (with CSV)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from infra.runtime import runtime
from infra.timeutil import local_today
from models import AuditAction, Invoice, Order, Staff
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.files import stored_file
from webviews.forms import Fields, Files, form_page, one, order_or_404, to_int
from webviews.render import render
from workflow import audit
from workflow.errors import Invalid, NotAllowed, WorkflowError
from workflow.finance import (
    INVOICE_AMOUNT,
    INVOICE_NUMBER,
    TAX_ID,
    InvoiceInput,
    check_invoice,
    confirm_payment,
    invoices_of,
    issue_invoice,
    payment_status,
    pending_payments,
    void_invoice,
)
from workflow.order_lifecycle import ORDER
from workflow.payments import payment_summary
from workflow.receipts import may_see_money, receipt_for
from workflow.receivables import (
    ReceivableFilter,
    parse_filter,
    receivables,
    receivables_csv,
    stores_of,
    total_outstanding,
)
from workflow.selectors import order_view

routes = web.RouteTableDef()


async def _order_page(request: web.Request, template: str, **extra: Any) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    status = extra.pop("status", 200)
    extra.setdefault("error", None)
    extra.pop("field", None)
    form = extra.pop("form", None) or {}
    return render(
        request,
        template,
        status=status,
        order=order,
        view=await order_view(order),
        csrf=csrf_token(staff),
        notice=request.query.get("done"),
        today=local_today().isoformat(),
        form=form,
        errors=extra.pop("errors", None) or {},
        **extra,
    )


# 确认到账: the order's payments, each 待确认 one with its button


async def _confirm_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    return await _order_page(
        request,
        "finance_payments.html",
        summary=await payment_summary(order),
        status_of=payment_status,
        confirming=await ORDER.may(ORDER["confirm_payment"], staff, order),
        receipts=await may_see_money(staff, order),
        **kw,
    )


async def _confirm_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    payment = await confirm_payment(actor=staff, order=order, payment_id=to_int(one(form, "payment_id"), -1))
    return f"/h5/orders/{order.number}/confirm-payments?done=已确认到账 ¥{payment.amount:.2f}"


form_page(routes, "/h5/orders/{number}/confirm-payments", _confirm_page, _confirm_action, order_or_404)


# 开具发票


async def _invoice_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    if not await may_see_money(staff, order):
        raise web.HTTPNotFound(text="订单不存在")
    invoices = await invoices_of(order)
    invoiced = sum((i.amount for i in invoices if i.voided_at is None), 0)
    return await _order_page(
        request,
        "invoices.html",
        invoices=invoices,
        invoiced=invoiced,
        contract=order.contract_amount,
        issuing=await ORDER.may(ORDER["issue_invoice"], staff, order),
        voiding=await ORDER.may(ORDER["void_invoice"], staff, order),
        tax_id_rule=TAX_ID,
        number_rule=INVOICE_NUMBER,
        amount_rule=INVOICE_AMOUNT,
        **kw,
    )


async def _invoice_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    if one(form, "action") == "void":
        voided = await void_invoice(
            actor=staff, order=order, invoice_id=to_int(one(form, "invoice_id"), -1), reason=one(form, "reason")
        )
        return f"/h5/orders/{order.number}/invoices?done=已作废发票 {voided.number}"
    form_input = InvoiceInput(
        number=one(form, "number"),
        amount=one(form, "amount"),
        issued_on=one(form, "issued_on"),
        buyer_tax_id=one(form, "buyer_tax_id"),
    )
    # Checked before the file is stored: a refused invoice leaves no file behind.
    await ORDER.check(ORDER["issue_invoice"], staff, order)
    check_invoice(form_input)
    stored, filename = None, ""
    if files:
        _, filename, data = files[0]
        stored = await runtime().files.put_document(data)
    invoice = await issue_invoice(actor=staff, order=order, form=form_input, stored=stored, filename=filename)
    return f"/h5/orders/{order.number}/invoices?done=已开具发票 {invoice.number}"


form_page(routes, "/h5/orders/{number}/invoices", _invoice_page, _invoice_action, order_or_404)


@routes.get("/h5/orders/{number}/invoices/{id}/file")
@h5_page
async def invoice_file(request: web.Request) -> web.StreamResponse:
    order = await order_or_404(request)
    invoice = await Invoice.get_or_none(id=to_int(request.match_info["id"], -1), order_id=order.id)
    if invoice is None or not invoice.file_sha256 or not await may_see_money(api_staff(request), order):
        raise web.HTTPNotFound(text="文件不存在")
    return await stored_file(invoice.file_sha256, content_type=invoice.file_type)


# 收据


@routes.get("/h5/orders/{number}/receipt.pdf")
@h5_page
async def receipt(request: web.Request) -> web.Response:
    order = await order_or_404(request)
    payment = request.query.get("payment")
    try:
        name, pdf = await receipt_for(api_staff(request), order, to_int(payment, -1) if payment else None)
    except WorkflowError as refused:
        status = 404 if isinstance(refused, NotAllowed) else refused.status
        return render(request, "message.html", title="无法打印收据", message=refused.message, status=status)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"},
    )


# 待确认收款: every payment waiting on finance in the member's part


@routes.get("/h5/finance/payments")
@h5_page
async def pending(request: web.Request) -> web.Response:
    try:
        items = await pending_payments(api_staff(request))
    except NotAllowed as refused:
        return render(request, "message.html", title="无法查看", message=refused.message, status=403)
    return render(request, "finance_pending.html", items=items)


# 未收清


async def _receivables(request: web.Request) -> tuple[ReceivableFilter, list[Any]]:
    f = parse_filter(request.query.get("store", ""), request.query.get("days", ""))
    return f, await receivables(api_staff(request), f)


@routes.get("/h5/receivables")
@h5_page
async def receivables_page(request: web.Request) -> web.Response:
    staff = api_staff(request)
    try:
        f, rows = await _receivables(request)
        error, status = None, 200
    except NotAllowed as refused:
        return render(request, "message.html", title="无法查看", message=refused.message, status=403)
    except Invalid as refused:
        f, rows, error, status = ReceivableFilter(), await receivables(staff), refused.message, 400
    return render(
        request,
        "receivables.html",
        status=status,
        rows=rows,
        total=total_outstanding(rows),
        stores=await stores_of(staff),
        chosen=f,
        error=error,
        query=request.query_string,
    )


@routes.get("/h5/receivables/export.csv")
@h5_page
async def receivables_export(request: web.Request) -> web.Response:
    try:
        f, rows = await _receivables(request)
    except NotAllowed as refused:
        return render(request, "message.html", title="无法导出", message=refused.message, status=403)
    except Invalid as refused:
        return render(request, "message.html", title="无法导出", message=refused.message, status=400)
    filter = {"store": str(f.unit_id or ""), "days": str(f.min_days or "")}
    await audit.record(
        AuditAction.RECEIVABLES_EXPORT,
        actor=api_staff(request),
        ip=request.remote or "",
        format="csv",
        rows=len(rows),
        filter={k: v for k, v in filter.items() if v},
    )
    return web.Response(
        body=receivables_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('未收清订单.csv')}"},
    )
