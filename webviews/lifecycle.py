"""H5 pages from design to after-sales: design, confirmation and payments, goods-in, the installer's
signing page, the visit form, and changing course (cancel, re-measure, reschedule, reassign, transfer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from infra.runtime import runtime
from infra.timeutil import local_today
from models import Attachment, AttachmentCategory, Order, OrderItem, PaymentKind, PaymentMethod, Staff
from models.flows import FLOWS
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.dispatch import open_tasks_of
from webviews.forms import Fields, Files, Page, form_page, one, order_or_404, to_date, to_int
from webviews.render import qr_png, render
from workflow.aftersales import SCORED, SCORED_LABELS, Score, people_of, record_visit
from workflow.approval import approve_prices, readable, reject_prices, review_history, waiting_review
from workflow.changes import cancel_order, request_remeasure, undo_cancel
from workflow.design import add_design, finish_design
from workflow.errors import Invalid, WorkflowError
from workflow.goods import goods_of, piece_label, receive_pieces
from workflow.items import edit_prices
from workflow.order_lifecycle import ORDER, job
from workflow.orders import edit_customer
from workflow.payments import (
    confirm_design,
    correct_payment,
    is_priced,
    parse_amount,
    payment_summary,
    record_payment,
    void_payment,
)
from workflow.pricing import LinePrice, money, percent
from workflow.privacy import NO_MONEY, may_call, sees_money
from workflow.selectors import order_view
from workflow.signing import signature_of, signing_link_for
from workflow.tasks import reassign_task, reschedule_task, team_for, transfer_task

routes = web.RouteTableDef()

Action = Callable[[Staff, Order, Fields, Files], Awaitable[str]]


async def _page(
    request: web.Request,
    template: str,
    *,
    error: str | None = None,
    status: int = 200,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    **extra: Any,
) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    return render(
        request,
        template,
        status=status,
        order=order,
        view=await order_view(order, with_timeline=True, with_money=sees_money(staff)),
        csrf=csrf_token(staff),
        error=error,
        field=field,
        errors=errors or {},
        form=form or {},
        notice=request.query.get("done"),
        today=local_today().isoformat(),
        **extra,
    )


def order_form(path: str, page: Page, action: Action) -> None:
    form_page(routes, path, page, action, order_or_404)


# Design (设计)


async def _design_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    designs = await Attachment.filter(
        order_id=order.id, category=AttachmentCategory.DESIGN, removed_at__isnull=True
    ).order_by("id")
    return await _page(request, "design.html", designs=designs, **kw)


async def _design_action(
    staff: Staff, order: Order, form: dict[str, list[str]], files: list[tuple[str, str, bytes]]
) -> str:
    if one(form, "action") == "finish":
        await finish_design(actor=staff, order=order)
        return f"/h5/orders/{order.number}?done=designed"
    if not files:
        raise Invalid("请选择设计文件")
    stored = [(name, await runtime().files.put_document(data)) for _, name, data in files]
    for filename, item in stored:
        await add_design(actor=staff, order=order, stored=item, filename=filename)
    return f"/h5/orders/{order.number}/design?done=设计文件已上传"


order_form("/h5/orders/{number}/design", _design_page, _design_action)


# Confirmation and payments (客户确认, 收款)


async def _payment_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    return await _page(
        request,
        "payments.html",
        summary=await payment_summary(order),
        methods=list(PaymentMethod),
        kinds=list(PaymentKind),
        confirming=await ORDER.may(ORDER["confirm"], api_staff(request), order),
        held=await _confirm_held(api_staff(request), order),
        priced=is_priced(order),
        recording=await ORDER.may(ORDER["record_payment"], api_staff(request), order),
        voiding=await ORDER.may(ORDER["void_payment"], api_staff(request), order),
        **kw,
    )


async def _confirm_held(staff: Staff, order: Order) -> str | None:
    """Why the order may not be confirmed yet (the price review, say), for whoever would confirm it."""
    step = ORDER["confirm"]
    if order.state not in step.source or not ORDER.has_role_for(step, staff):
        return None
    try:
        await ORDER.check(step, staff, order)
    except WorkflowError as refused:
        return refused.message
    return None


def _payment_fields(form: dict[str, list[str]]) -> tuple[PaymentMethod, PaymentKind]:
    try:
        return PaymentMethod(one(form, "method")), PaymentKind(one(form, "kind"))
    except ValueError as exc:
        raise Invalid("请选择付款方式和类型", "method") from exc


async def _payment_action(
    staff: Staff, order: Order, form: dict[str, list[str]], files: list[tuple[str, str, bytes]]
) -> str:
    action, payment_id = one(form, "action"), to_int(one(form, "payment_id"), -1)
    if action == "void":
        voided = await void_payment(actor=staff, order=order, payment_id=payment_id, reason=one(form, "reason"))
        return f"/h5/orders/{order.number}/payments?done=已作废收款 {voided.amount} 元"
    # An order waiting for confirmation is confirmed here or refused with the reason (the price review).
    confirming = action != "correct" and order.state in ORDER["confirm"].source
    errors: dict[str, str] = {}
    amounts: dict[str, Decimal] = {}
    typed = ("amount",) if is_priced(order) or not confirming else ("contract_amount", "amount")
    for name in typed:
        try:
            amounts[name] = parse_amount(one(form, name), name)
        except Invalid as refused:
            errors[name] = refused.message
    try:
        method, kind = _payment_fields(form)
    except Invalid as refused:
        errors.update(refused.errors)
    if errors:
        raise Invalid.several(errors)
    if action == "correct":
        await correct_payment(
            actor=staff,
            order=order,
            payment_id=payment_id,
            amount=amounts["amount"],
            method=method,
            kind=kind,
            reason=one(form, "reason"),
        )
        return f"/h5/orders/{order.number}/payments?done=收款已更正为 {amounts['amount']} 元"
    if confirming:
        await confirm_design(
            actor=staff,
            order=order,
            contract_amount=amounts.get("contract_amount"),
            first_payment=amounts["amount"],
            method=method,
            kind=kind,
            note=one(form, "note"),
        )
        return f"/h5/orders/{order.number}?done=confirmed"
    await record_payment(
        actor=staff, order=order, amount=amounts["amount"], method=method, kind=kind, note=one(form, "note")
    )
    return f"/h5/orders/{order.number}/payments?done=收款已登记"


order_form("/h5/orders/{number}/confirm", _payment_page, _payment_action)
order_form("/h5/orders/{number}/payments", _payment_page, _payment_action)


# Prices (修改价格)


async def _prices_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    if not sees_money(api_staff(request)):
        return render(request, "message.html", title="无法查看", message=NO_MONEY, status=403)
    may = await ORDER.may(ORDER["edit_prices"], api_staff(request), order)
    items = await OrderItem.filter(order_id=order.id).order_by("id").prefetch_related("product")
    return await _page(request, "prices.html", items=items, editing=may, **kw)


async def _prices_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    errors: dict[str, str] = {}
    lines: dict[int, LinePrice] = {}
    prices, discounts = form.get("unit_price", []), form.get("discount_pct", [])
    for n, item_id in enumerate(form.get("item_id", [])):
        try:
            lines[to_int(item_id, -1)] = LinePrice(
                unit_price=money(prices[n] if n < len(prices) else "", "items", label="单价"),
                discount_pct=percent(discounts[n] if n < len(discounts) else "", "items"),
            )
        except Invalid as refused:
            errors["items"] = f"第 {n + 1} 项：{refused.message}"
            break
    discount = None
    try:
        discount = money(one(form, "order_discount"), "order_discount", label="整单优惠")
    except Invalid as refused:
        errors["order_discount"] = refused.message
    if errors:
        raise Invalid.several(errors)
    await edit_prices(actor=staff, order=order, lines=lines, order_discount=discount)
    return f"/h5/orders/{order.number}?done=prices"


order_form("/h5/orders/{number}/prices", _prices_page, _prices_action)


# Goods-in (入库)


async def _goods_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    goods = await goods_of(order)
    form = kw.get("form") or {}
    typed = dict(zip(form.get("piece_id", []), form.get("production_number", []), strict=False))  # kept on a refusal
    return await _page(
        request,
        "goods_in.html",
        goods=goods,
        total=sum(len(g.pieces) for g in goods),
        waiting=sum(len(g.missing) for g in goods),
        typed=typed,
        piece_label=piece_label,
        **kw,
    )


async def _goods_action(
    staff: Staff, order: Order, form: dict[str, list[str]], files: list[tuple[str, str, bytes]]
) -> str:
    piece_ids, numbers = form.get("piece_id", []), form.get("production_number", [])
    entered = {to_int(p, -1): n for p, n in zip(piece_ids, numbers, strict=False) if n.strip()}
    received = await receive_pieces(actor=staff, order=order, numbers=entered)
    return f"/h5/orders/{order.number}/goods-in?done=已登记 {len(received)} 件"


order_form("/h5/orders/{number}/goods-in", _goods_page, _goods_action)


# The installer's signing page: a QR code for the customer's phone, and the link to forward.


@routes.get("/h5/orders/{number}/sign")
@h5_page
async def sign_for_customer(request: web.Request) -> web.Response:
    order = await order_or_404(request)
    signature = await signature_of(order)
    try:
        link = await signing_link_for(actor=api_staff(request), order=order)
    except WorkflowError:
        link = ""  # signed already (the page shows the signature), not yet installed, or not theirs to show
    return await _page(request, "sign_share.html", link=link, signature=signature)


@routes.get("/h5/orders/{number}/sign-qr.png")
@h5_page
async def sign_qr(request: web.Request) -> web.Response:
    order = await order_or_404(request)
    try:
        link = await signing_link_for(actor=api_staff(request), order=order)
    except WorkflowError:
        raise web.HTTPNotFound(text="订单当前不需要签字") from None
    return await qr_png(link)


# After-sales visit (回访)


async def _visit_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    people = await people_of(order)
    can_call = await may_call(api_staff(request), order)
    people_list = [(r, SCORED_LABELS[r], people[r]) for r in SCORED]
    return await _page(request, "visit.html", people=people_list, can_call=can_call, **kw)


async def _visit_action(
    staff: Staff, order: Order, form: dict[str, list[str]], files: list[tuple[str, str, bytes]]
) -> str:
    reached = one(form, "reached") == "yes"
    scores = {
        role: Score(value=to_int(one(form, f"score_{role}"), 0) or None, comment=one(form, f"comment_{role}"))
        for role in SCORED
    }
    await record_visit(actor=staff, order=order, reached=reached, notes=one(form, "notes"), scores=scores)
    if reached:
        return f"/h5/orders/{order.number}?done=visited"
    return f"/h5/orders/{order.number}/visit?done=已记录：未接通"


order_form("/h5/orders/{number}/visit", _visit_page, _visit_action)


# The customer's details (修改客户信息)


async def _customer_page(request: web.Request, *, form: Fields | None = None, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    view = await order_view(order)
    # The phone is not filled in: the full number is only for who must call the customer (显示号码).
    current = {"customer_name": [view.customer_name], "address": [view.address]}
    return await _page(request, "customer.html", form=form or current, **kw)


async def _customer_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    await edit_customer(
        actor=staff,
        order=order,
        customer_name=one(form, "customer_name"),
        phone=one(form, "phone"),
        address=one(form, "address"),
        reason=one(form, "reason"),
    )
    return f"/h5/orders/{order.number}?edited=1"


order_form("/h5/orders/{number}/customer", _customer_page, _customer_action)


# Changing course (调整)


async def _changes_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    allowed = {t.name for t in await ORDER.available(staff, order)}
    tasks = [t for t in await open_tasks_of(order.id) if t.kind in FLOWS]
    # Per open job: may this viewer reschedule it, and to whom may they hand it (reassign or transfer)?
    jobs = []
    for task in tasks:
        flow = FLOWS[task.kind]
        hand = next((s for s in ("reassign", "transfer") if job(task.kind, s).name in allowed), "")
        team = [p for p in await team_for(flow, staff, task) if p.id != task.assignee_id] if hand else []
        jobs.append((task, job(task.kind, "reschedule").name in allowed, hand, team))
    nothing = not ({"cancel", "remeasure", "undo_cancel"} & allowed or any(j[1] or j[3] for j in jobs))
    # Cancelling is asked twice: the reason first, then "确认取消" on this page with it.
    confirming = "cancel" in allowed and request.query.get("confirm") == "cancel"
    return await _page(
        request,
        "changes.html",
        jobs=jobs,
        allowed=allowed,
        nothing=nothing,
        confirm_reason=request.query.get("reason", "")[:255] if confirming else None,
        undo_minutes=runtime().config.schedule.cancel_undo_minutes,
        **kw,
    )


async def _changes_action(
    staff: Staff, order: Order, form: dict[str, list[str]], files: list[tuple[str, str, bytes]]
) -> str:
    action, reason = one(form, "action"), one(form, "reason")
    done = {
        "cancel": "cancelled",
        "remeasure": "remeasure",
        "reschedule": "rescheduled",
        "reassign": "reassigned",
        "transfer": "transferred",
    }
    task_id = to_int(one(form, "task_id"), -1)
    if action == "cancel":
        if one(form, "confirm") != "1":
            if not reason:
                raise Invalid("请填写取消原因", "reason")
            await ORDER.check(ORDER["cancel"], staff, order)
            return f"/h5/orders/{order.number}/changes?{urlencode({'confirm': 'cancel', 'reason': reason})}"
        await cancel_order(actor=staff, order=order, reason=reason)
    elif action == "undo_cancel":
        await undo_cancel(actor=staff, order=order)
        return f"/h5/orders/{order.number}?restored=1"
    elif action == "remeasure":
        await request_remeasure(actor=staff, order=order, reason=reason)
    elif action == "reschedule":
        day = to_date(one(form, "date"), "date")
        if day is None:
            raise Invalid("请选择新日期", "date")
        await reschedule_task(actor=staff, task_id=task_id, day=day, reason=reason)
    elif action == "reassign":
        await reassign_task(actor=staff, task_id=task_id, worker_id=to_int(one(form, "worker_id"), -1), reason=reason)
    elif action == "transfer":
        await transfer_task(
            actor=staff, task_id=task_id, colleague_id=to_int(one(form, "worker_id"), -1), reason=reason
        )
    else:
        raise Invalid("未知的操作")
    return f"/h5/orders/{order.number}?done={done[action]}"


order_form("/h5/orders/{number}/changes", _changes_page, _changes_action)


# The price review (审核): 同意, or 驳回 with the reason a card cannot take


async def _approval_page(request: web.Request, **kw: Any) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    waiting = await waiting_review(order)
    return await _page(
        request,
        "approval.html",
        approval=waiting[0] if waiting else None,
        figures=readable(waiting[0]) if waiting else None,
        approvers="、".join(m.name for m in waiting[1]) if waiting else "",
        history=await review_history(order),
        deciding=await ORDER.may(ORDER["approve"], staff, order),
        **kw,
    )


async def _approval_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    approval_id = to_int(one(form, "approval_id"), -1)
    if one(form, "action") == "approve":
        await approve_prices(actor=staff, order=order, approval_id=approval_id)
        return f"/h5/orders/{order.number}/approval?done=已同意"
    if one(form, "action") == "reject":
        await reject_prices(actor=staff, order=order, reason=one(form, "reason"), approval_id=approval_id)
        return f"/h5/orders/{order.number}/approval?done=已驳回，已通知销售"
    raise Invalid("未知的操作")


order_form("/h5/orders/{number}/approval", _approval_page, _approval_action)
