"""The H5 pages staff open from cards: new order, dispatch, measuring, gallery, order, files."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any
from urllib.parse import quote

from aiohttp import web

from infra.runtime import runtime
from infra.timeutil import local_today
from models import (
    Attachment,
    AttachmentCategory,
    Order,
    OrderItem,
    OrderState,
    OrgUnit,
    Staff,
    Task,
)
from models.enums import SITE_PHOTO_CATEGORIES
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.forms import (
    Fields,
    Files,
    form_page,
    item_rows,
    no_subject,
    one,
    order_or_404,
    products,
    to_date,
    to_int,
)
from webviews.render import render
from workflow.attachments import file_name, removal_refused, remove_upload
from workflow.errors import Invalid, NotAllowed, WorkflowError
from workflow.lifecycle import Page
from workflow.measure import add_drawing, adjust_items, finish_measure
from workflow.order_lifecycle import ORDER
from workflow.orders import ItemInput, copy_of, create_order
from workflow.payments import payment_summary
from workflow.scope import can_see, get_order_for
from workflow.search import OrderFilter, export_csv, search_orders
from workflow.selectors import order_files, order_view

routes = web.RouteTableDef()


async def _new_order_page(
    request: web.Request, *, error: str | None = None, field: str = "", form: Fields | None = None, status: int = 200
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
    return render(
        request,
        "order_new.html",
        status=status,
        products=await products(),
        form=form or {},
        error=error,
        field=field,
        csrf=csrf_token(staff),
        today=local_today().isoformat(),
    )


async def _create_order(staff: Staff, _: None, form: Fields, files: Files) -> str:
    photo = next((data for name, _filename, data in files if name == "paper_photo"), None)
    order = await create_order(
        actor=staff,
        number=one(form, "number"),
        customer_name=one(form, "customer_name"),
        phone=one(form, "phone"),
        address=one(form, "address"),
        items=[ItemInput(product_id=p, room=r, quantity=q) for p, r, q in item_rows(form)],
        expected_measure_date=to_date(one(form, "expected_measure_date"), "expected_measure_date"),
        note=one(form, "note"),
        paper_photo=photo,
        copied_from=await get_order_for(staff, one(form, "copied_from")) if one(form, "copied_from") else None,
    )
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
        orders=orders,
        f=f,
        error=error,
        states=list(OrderState),
        units=units,
        people=people,
        query=request.query_string,
    )


@routes.get("/h5/orders.csv", name="order_export")
@h5_page
async def order_export(request: web.Request) -> web.Response:
    staff = api_staff(request)
    try:
        orders = await search_orders(staff, _filter(request), limit=50_000)
    except WorkflowError as exc:
        return render(request, "message.html", title="导出失败", message=exc.message, status=400)
    return web.Response(
        text=await export_csv(orders),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('订单导出.csv')}"},
    )


@routes.get("/h5/orders/{number}", name="order_detail")
@h5_page
async def order_detail(request: web.Request) -> web.Response:
    staff = api_staff(request)
    order = await order_or_404(request)
    view = await order_view(order, with_timeline=True)
    files = await order_files(order)
    tasks = await Task.filter(order_id=order.id).order_by("id").prefetch_related("assignee")
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
        payments=await payment_summary(order),
        can_undo=await ORDER.may(ORDER["undo_cancel"], staff, order),
        can_copy=ORDER.has_role_for(ORDER["create_order"], staff),
        undo_minutes=runtime().config.schedule.cancel_undo_minutes,
        csrf=csrf_token(staff),
    )


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
        "products": await products(),
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
        return f"/h5/orders/{order.number}?measured=1"
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
    path = runtime().files.path(attachment.sha256, thumbnail=thumb)
    headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    response = web.FileResponse(path, headers=headers)
    response.content_type = "image/jpeg" if thumb else attachment.content_type
    if request.query.get("download") == "1":
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(_download_name(attachment))}"
    return response


def _quote(name: str) -> str:
    return quote(name)


@routes.get("/h5/orders/{number}/files.zip", name="order_zip")
@h5_page
async def download_all(request: web.Request) -> web.Response:
    order = await order_or_404(request)
    files = await order_files(order)
    store = runtime().files

    def build() -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for f in files:
                zf.write(store.path(f.sha256), f"{f.category.label}/{_download_name(f)}")
        return out.getvalue()

    data = await asyncio.to_thread(build)
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(order.number + '-资料.zip')}"},
    )
