"""The H5 pages staff open from cards: new order, dispatch, measuring, gallery, order, files."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from cards.orders import DEALER_SIDE
from infra.errors import UserError
from infra.runtime import runtime
from infra.security import Signer, mask_phone
from infra.timeutil import local_today
from models import (
    Attachment,
    AttachmentCategory,
    AuditAction,
    Order,
    OrderItem,
    OrderState,
    OrgUnit,
    Product,
    Staff,
    Task,
    Ticket,
)
from models.enums import SITE_PHOTO_CATEGORIES
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.files import stored_file
from webviews.forms import (
    Fields,
    Files,
    form_page,
    item_inputs,
    item_rows,
    no_subject,
    one,
    order_or_404,
    products,
    read_form,
    to_date,
    to_int,
)
from webviews.render import render
from workflow import audit
from workflow.approval import review_history
from workflow.attachments import file_name, removal_refused, remove_upload
from workflow.catalog import specs_text
from workflow.errors import Invalid, NotAllowed, WorkflowError
from workflow.finance import invoices_of
from workflow.leads import lead_for_order
from workflow.leads import order_form as lead_order_form
from workflow.lifecycle import Page
from workflow.measure import add_drawing, adjust_items, finish_measure
from workflow.order_lifecycle import ORDER
from workflow.orders import ItemInput, copy_of, create_order
from workflow.payments import PaymentSummary, payment_summary
from workflow.pricing import money, prices_for
from workflow.privacy import may_call, phone_of, reveal_phone, sees_money
from workflow.queue import LIMIT as QUEUE_LIMIT
from workflow.queue import QUEUE_PATH, queue_for
from workflow.receipts import may_print_receipt, may_see_money
from workflow.scope import can_see, get_order_for
from workflow.search import OrderFilter, export_csv, search_orders
from workflow.selectors import order_files, order_view, priced_lines_of
from workflow.tasks import answer_task

routes = web.RouteTableDef()

# The paper order's photo from a refused submit: a signed reference to the stored file, so that
# the form shown again keeps it and the corrected submit need not choose it again.
KEPT_PHOTO = "kept_paper_photo"


@dataclass(frozen=True)
class KeptPhoto:
    token: str
    name: str
    preview: str  # a data: URL of the thumbnail (the file has no attachment row to serve it by yet)
    data: bytes


def _kept_signer() -> Signer:
    return Signer(runtime().config.security.secret_key, "kept-photo")


def keep_photo(staff: Staff, data: bytes, filename: str) -> str:
    return _kept_signer().dumps([staff.userid, hashlib.sha256(data).hexdigest(), filename[:100]])


async def kept_photo(staff: Staff, token: str) -> KeptPhoto | None:
    """The photo `token` keeps for this member, if it is theirs, recent and still stored."""
    value = _kept_signer().loads(token, runtime().config.security.session_hours * 3600) if token else None
    if not (isinstance(value, list) and len(value) == 3 and value[0] == staff.userid):
        return None
    sha, name = str(value[1]), str(value[2])
    try:
        data, thumb = await runtime().files.read(sha), await runtime().files.read(sha, thumbnail=True)
    except OSError:
        return None
    preview = "data:image/jpeg;base64," + base64.b64encode(thumb).decode()
    return KeptPhoto(token=token, name=name, preview=preview, data=data)


async def _new_order_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = api_staff(request)
    try:
        ORDER.check_role(ORDER["create_order"], staff)
    except NotAllowed as refused:
        return render(request, "message.html", title="无法开单", message=refused.message, status=403)
    if form is None and request.query.get("from"):
        # 复制订单: the form starts from an order this member may see.
        try:
            form = await copy_of(await get_order_for(staff, request.query["from"]))
        except WorkflowError as refused:
            return render(request, "message.html", title="无法复制", message=refused.message, status=refused.status)
    if form is None and request.query.get("lead"):
        # 已成交 on a showroom booking: the form starts from the lead (workflow/leads.py).
        try:
            form = await lead_order_form(staff, await lead_for_order(staff, request.query["lead"]))
        except WorkflowError as refused:
            return render(request, "message.html", title="无法开单", message=refused.message, status=refused.status)
    form = form or {}
    offered = await products()
    return render(
        request,
        "order_new.html",
        status=status,
        products=offered,
        specs_text=specs_text,
        prices=await prices_for(
            unit=await OrgUnit.get(id=staff.org_unit_id), on=local_today(), product_ids=[p.id for p in offered]
        ),
        form=form,
        error=error,
        field=field,
        errors=errors or {},
        kept=await kept_photo(staff, one(form, KEPT_PHOTO)),
        kept_field=KEPT_PHOTO,
        csrf=csrf_token(staff),
        today=local_today().isoformat(),
    )


async def _create_order(staff: Staff, _: None, form: Fields, files: Files) -> str:
    upload = next(((filename, data) for name, filename, data in files if name == "paper_photo"), None)
    kept = None if upload else await kept_photo(staff, one(form, KEPT_PHOTO))
    photo = upload[1] if upload else kept.data if kept else None
    errors: dict[str, str] = {}
    items: list[ItemInput] = []
    discount = None
    try:
        items = item_inputs(form)
    except Invalid as refused:
        errors["items"] = refused.message
    try:
        discount = money(one(form, "order_discount"), "order_discount", label="整单优惠")
    except Invalid as refused:
        errors["order_discount"] = refused.message
    try:
        if errors:
            raise Invalid.several(errors)
        order = await create_order(
            actor=staff,
            number=one(form, "number"),
            customer_name=one(form, "customer_name"),
            phone=one(form, "phone"),
            address=one(form, "address"),
            items=items,
            expected_measure_date=to_date(one(form, "expected_measure_date"), "expected_measure_date"),
            note=one(form, "note"),
            paper_photo=photo,
            order_discount=discount,
            copied_from=await get_order_for(staff, one(form, "copied_from")) if one(form, "copied_from") else None,
            lead=await lead_for_order(staff, one(form, "lead")) if one(form, "lead") else None,
        )
    except UserError as refused:
        # The photo create_order checked and stored stays chosen on the form shown again.
        if upload and "paper_photo" not in refused.errors:
            form[KEPT_PHOTO] = [keep_photo(staff, upload[1], upload[0])]
        raise
    return f"/h5/orders/{order.number}?created=1"


form_page(routes, "/h5/orders/new", _new_order_page, _create_order, no_subject)


def _filter(request: web.Request) -> OrderFilter:
    q = request.query
    return OrderFilter(
        q=q.get("q", "")[:100],
        state=q.get("state", ""),
        date_from=to_date(q.get("from", ""), "from"),
        date_to=to_date(q.get("to", ""), "to"),
        staff_id=to_int(q.get("staff"), 0) or None,
        unit_id=to_int(q.get("unit"), 0) or None,
    )


@routes.get("/h5/orders", name="order_list")
@h5_page
async def order_list(request: web.Request) -> web.Response:
    staff = api_staff(request)
    error = None
    try:
        f = _filter(request)
        orders = await search_orders(staff, f)
    except WorkflowError as exc:
        f, orders, error = OrderFilter(), [], exc.message
    unit = await OrgUnit.get(id=staff.org_unit_id)
    units = await OrgUnit.filter(path__startswith=unit.path).order_by("path")
    people = await Staff.filter(active=True, org_unit__path__startswith=unit.path).order_by("name")
    return render(
        request,
        "order_list.html",
        can_create=ORDER.has_role_for(ORDER["create_order"], staff),
        is_admin=staff.has_role("admin"),
        orders=orders,
        phones={o.id: mask_phone(phone_of(o.customer)) for o in orders},
        f=f,
        error=error,
        states=list(OrderState),
        units=units,
        people=people,
        query=request.query_string,
    )


async def _queue_page(
    request: web.Request, *, error: str | None = None, status: int = 200, **_: object
) -> web.Response:
    """我的待办: what waits on this member, oldest first, each a tap from its next step."""
    staff = api_staff(request)
    return render(
        request,
        "queue.html",
        status=status,
        items=await queue_for(staff),
        # A dealer's staff follow their dealer orders, not the customers' orders.
        all_orders="/h5/dealer/orders" if staff.roles and set(staff.roles) <= DEALER_SIDE else "/h5/orders",
        today=local_today(),
        limit=QUEUE_LIMIT,
        csrf=csrf_token(staff),
        error=error,
        notice=request.query.get("done"),
    )


async def _queue_action(staff: Staff, _: None, form: Fields, files: Files) -> str:
    """接单 from the list: the same step as the task card's button."""
    await answer_task(actor=staff, task_id=to_int(one(form, "task"), -1), accept=True)
    return f"{QUEUE_PATH}?done=已接单"


form_page(routes, QUEUE_PATH, _queue_page, _queue_action, no_subject)


@routes.get("/h5/orders.csv", name="order_export")
@h5_page
async def order_export(request: web.Request) -> web.Response:
    staff = api_staff(request)
    try:
        f = _filter(request)
        orders = await search_orders(staff, f, limit=50_000)
    except WorkflowError as exc:
        return render(request, "message.html", title="导出失败", message=exc.message, status=400)
    text = await export_csv(orders)
    await audit.record(
        AuditAction.ORDER_EXPORT,
        actor=staff,
        ip=request.remote or "",
        format="csv",
        rows=len(orders),
        filter=_described(f),
    )
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('订单导出.csv')}"},
    )


def _described(f: OrderFilter) -> dict[str, str]:
    """An order filter as the audit log keeps it: the search text without the customer's data."""
    values = {
        "q": audit.search_text(f.q),
        "state": f.state,
        "from": f.date_from.isoformat() if f.date_from else "",
        "to": f.date_to.isoformat() if f.date_to else "",
        "staff": str(f.staff_id or ""),
        "unit": str(f.unit_id or ""),
    }
    return {k: v for k, v in values.items() if v}


@routes.get("/h5/orders/{number}", name="order_detail")
@h5_page
async def order_detail(request: web.Request) -> web.Response:
    staff = api_staff(request)
    order = await order_or_404(request)
    await audit.record(AuditAction.ORDER_VIEW, actor=staff, order=order, ip=request.remote or "")
    view = await order_view(order, with_timeline=True, with_money=sees_money(staff))
    files = await order_files(order)
    tasks = await Task.filter(order_id=order.id).order_by("id").prefetch_related("assignee")
    payments = await payment_summary(order)
    return render(
        request,
        "order_detail.html",
        order=order,
        view=view,
        files=files,
        tasks=tasks,
        created=request.query.get("created") == "1",
        restored=request.query.get("restored") == "1",
        edited=request.query.get("edited") == "1",
        actions=await order_actions(staff, order),
        payments=payments,
        reviews=await review_history(order),
        sees_money=sees_money(staff),
        lines=await priced_lines_of(order) if sees_money(staff) else [],
        invoices=await invoices_of(order) if await may_see_money(staff, order) else [],
        receipts=await may_print_receipt(staff, order),
        done=done_notice(request.query.get("done", ""), sales=view.sales_name, tasks=tasks, payments=payments),
        can_call=await may_call(staff, order),
        can_undo=await ORDER.may(ORDER["undo_cancel"], staff, order),
        can_copy=ORDER.has_role_for(ORDER["create_order"], staff),
        undo_minutes=runtime().config.schedule.cancel_undo_minutes,
        csrf=csrf_token(staff),
        tickets=await Ticket.filter(order_id=order.id).order_by("-id"),  # service tickets (售后工单)
    )


@routes.post("/h5/orders/{number}/phone", name="order_phone")
@h5_page
async def order_phone(request: web.Request) -> web.Response:
    """显示号码: the full number, for a member who must call the customer; every reveal is recorded."""
    staff = api_staff(request)
    order = await order_or_404(request)
    fields, _ = await read_form(request)
    check_csrf(request, staff, one(fields, "csrf"))
    try:
        phone = await reveal_phone(actor=staff, order=order, ip=request.remote or "")
    except NotAllowed as refused:
        return web.json_response({"error": refused.message}, status=403, dumps=_json)
    return web.json_response({"phone": phone}, headers={"Cache-Control": "no-store"}, dumps=_json)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# What an H5 action confirms on the order page it returns to (?done=<key>). Keys, not text: a link
# someone forwards cannot make Relay's page say something Relay did not do.
DONE = {
    "designed": "设计已完成，已通知销售 {sales} 与客户确认。",
    "measured": "测量已完成，已通知设计师。",
    "confirmed": "客户已确认设计：合同金额 ¥{contract:.2f}，已收 ¥{paid:.2f}。订单已交付生产，已通知仓库。",
    "visited": "回访已记录。",
    "prices": "价格已修改。",
    "cancelled": "订单已取消，已通知相关人员。",
    "remeasure": "已安排重新测量。",
    "rescheduled": "已改期。",
    "reassigned": "已改派。",
    "transferred": "已转交。",
}


def done_notice(key: str, *, sales: str, tasks: list[Task], payments: PaymentSummary) -> str | None:
    if key.startswith("dispatched-"):
        task = next((t for t in reversed(tasks) if t.kind == key.removeprefix("dispatched-")), None)
        if task is None or task.assignee is None:
            return None
        who = task.assignee.name
        return f"已派{task.kind.label}给 {who}（{task.scheduled_date}），已通知{who}。"
    text = DONE.get(key)
    if text is None:
        return None
    return text.format(sales=sales, contract=payments.contract or 0, paid=payments.paid)


async def order_actions(staff: Staff, order: Order) -> list[tuple[str, str]]:
    """The pages this viewer can act on from here: those of the transitions the lifecycle offers them."""
    offered: dict[Page, list[str]] = {}
    for t in await ORDER.available(staff, order):
        if t.page is not None:
            offered.setdefault(t.page, []).append(t.label)
    buttons = []
    for page, labels in sorted(offered.items(), key=lambda item: item[0].lists_actions):
        label = f"{page.label}：{' / '.join(dict.fromkeys(labels))}" if page.lists_actions else page.label
        buttons.append((label, page.url(order.number)))
    return buttons


async def _measure_context(request: web.Request, order: Order) -> dict[str, Any]:
    files = await order_files(order)
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    counts = {
        c: sum(1 for f in files if f.category == c) for c in (*SITE_PHOTO_CATEGORIES, AttachmentCategory.UNSORTED)
    }
    return {
        "order": order,
        "view": await order_view(order),
        "items": items,
        # A line sold before its product was retired keeps it: offered on this order's lines only.
        "products": [*await products(), *await Product.filter(id__in=[i.product_id for i in items], active=False)],
        "counts": counts,
        "drawings": [f for f in files if f.category == AttachmentCategory.DRAWING],
        "photos": [f for f in files if f.category in (*SITE_PHOTO_CATEGORIES, AttachmentCategory.UNSORTED)],
        "csrf": csrf_token(api_staff(request)),
        "categories": SITE_PHOTO_CATEGORIES,
        "unsorted": AttachmentCategory.UNSORTED,
    }


async def _measure_page(
    request: web.Request, *, error: str | None = None, status: int = 200, **_: object
) -> web.Response:
    order = await order_or_404(request)
    notice = {"drawings": "图纸已上传", "items": "产品与房间已保存"}.get(request.query.get("saved", ""))
    context = await _measure_context(request, order)
    return render(request, "measure.html", status=status, error=error, notice=None if error else notice, **context)


async def _measure_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    action = one(form, "action")
    if action == "drawings":
        if not files:
            raise Invalid("请选择要上传的图纸文件")
        stored = [(name, await runtime().files.put_document(data)) for _, name, data in files]
        for filename, item in stored:
            await add_drawing(actor=staff, order=order, stored=item, filename=filename)
        return f"/h5/orders/{order.number}/measure?saved=drawings"
    if action == "items":
        rows = item_rows(form)
        items = [ItemInput(product_id=p, room=r, quantity=q) for p, r, q in rows]
        await adjust_items(actor=staff, order=order, items=items)
        return f"/h5/orders/{order.number}/measure?saved=items"
    if action == "finish":
        await finish_measure(actor=staff, order=order)
        return f"/h5/orders/{order.number}?done=measured"
    raise Invalid("未知的操作")


form_page(routes, "/h5/orders/{number}/measure", _measure_page, _measure_action, order_or_404)


GALLERY_GROUPS = (
    *SITE_PHOTO_CATEGORIES,
    AttachmentCategory.UNSORTED,
    AttachmentCategory.PAPER_ORDER,
    AttachmentCategory.DESIGN,
    AttachmentCategory.INSTALL,
    AttachmentCategory.SIGNATURE,
)


async def _gallery_page(
    request: web.Request, *, error: str | None = None, status: int = 200, **_: object
) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    files = await Attachment.filter(order_id=order.id).order_by("category", "id").prefetch_related("task", "removed_by")
    removed = [f for f in files if f.removed_at is not None]
    files = [f for f in files if f.removed_at is None]
    # Photos and drawings of a measuring that was done again stay, marked as superseded.
    old = [f for f in files if f.task is not None and f.task.superseded]
    current = [f for f in files if f not in old]
    groups = [(c.label, [f for f in current if f.category == c and f.has_thumbnail]) for c in GALLERY_GROUPS]
    documents = [f for f in current if not f.has_thumbnail or f.category in (AttachmentCategory.DRAWING,)]
    removable = {f.id for f in files if await removal_refused(staff, f, order) is None}
    return render(
        request,
        "gallery.html",
        status=status,
        error=error,
        notice=None if error else request.query.get("done"),
        order=order,
        view=await order_view(order),
        groups=[g for g in groups if g[1]],
        drawings=[f for f in documents if f.category == AttachmentCategory.DRAWING],
        documents=[f for f in documents if f.category != AttachmentCategory.DRAWING],
        superseded=old,
        removed=removed,
        removable=[f for f in files if f.id in removable],
        csrf=csrf_token(staff),
    )


async def _gallery_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    removed = await remove_upload(
        actor=staff, order=order, attachment_id=to_int(one(form, "attachment_id"), -1), reason=one(form, "reason")
    )
    return f"/h5/orders/{order.number}/gallery?done=已删除 {removed.filename or removed.category.label}"


form_page(routes, "/h5/orders/{number}/gallery", _gallery_page, _gallery_action, order_or_404)


async def _attachment_for(request: web.Request) -> Attachment:
    attachment = await Attachment.get_or_none(id=to_int(request.match_info["id"], -1))
    if attachment is None:
        raise web.HTTPNotFound(text="文件不存在")
    order = await Order.get(id=attachment.order_id)
    if not await can_see(api_staff(request), order):
        raise web.HTTPNotFound(text="文件不存在")
    return attachment


def _download_name(attachment: Attachment) -> str:
    ext = {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "application/pdf": ".pdf",
        "image/vnd.dwg": ".dwg",
        "image/vnd.dxf": ".dxf",
    }.get(attachment.content_type, "")
    base = file_name(attachment.filename, attachment.category.label)  # rows stored before names were cleaned
    return base if base.lower().endswith(ext) else f"{base}-{attachment.id}{ext}"


@routes.get("/h5/files/{id}", name="file")
@h5_page
async def file_download(request: web.Request) -> web.StreamResponse:
    attachment = await _attachment_for(request)
    thumb = request.query.get("thumb") == "1" and attachment.has_thumbnail
    download = _download_name(attachment) if request.query.get("download") == "1" else None
    return await stored_file(
        attachment.sha256, content_type=attachment.content_type, thumbnail=thumb, download_name=download
    )


def _quote(name: str) -> str:
    return quote(name)


@routes.get("/h5/orders/{number}/files.zip", name="order_zip")
@h5_page
async def download_all(request: web.Request) -> web.Response:
    order = await order_or_404(request)
    files = await order_files(order)
    contents = [(f"{f.category.label}/{_download_name(f)}", await runtime().files.read(f.sha256)) for f in files]

    def build() -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for name, data in contents:
                zf.writestr(name, data)
        return out.getvalue()

    data = await asyncio.to_thread(build)
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(order.number + '-资料.zip')}"},
    )
