"""The H5 pages staff open from cards: new order, dispatch, measuring, gallery, order, files."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import date
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from multidict import MultiDictProxy

from models import (
    Attachment,
    AttachmentCategory,
    Order,
    OrderItem,
    OrderState,
    Product,
    Role,
    Task,
    TaskKind,
)
from models.enums import OPEN_TASK_STATES, SITE_PHOTO_CATEGORIES
from relay.runtime import runtime
from relay.storage import RejectedFile, StoredFile
from relay.timeutil import local_today
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.render import render
from workflow.errors import Invalid, WorkflowError
from workflow.measure import (
    ItemChange,
    add_drawing,
    adjust_items,
    dispatch_measure,
    finish_measure,
    rank_measurers,
)
from workflow.orders import ItemInput, create_order
from workflow.scope import can_see, get_order_for
from workflow.selectors import order_files, order_view, visible_orders

routes = web.RouteTableDef()

MAX_FORM_FILES = 20


async def _products() -> list[Product]:
    return await Product.filter(active=True).order_by("series", "model")


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("日期格式不正确", field) from exc


async def _read_form(request: web.Request) -> tuple[dict[str, list[str]], list[tuple[str, str, bytes]]]:
    """Fields and uploaded files of a multipart or urlencoded form."""
    fields: dict[str, list[str]] = {}
    files: list[tuple[str, str, bytes]] = []
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: no browser sends one
            if part.filename:
                if len(files) >= MAX_FORM_FILES:
                    raise Invalid(f"一次最多上传 {MAX_FORM_FILES} 个文件")
                data = await part.read(decode=False)
                if data:
                    # Non-browser clients (aiohttp, requests) percent-encode non-ASCII names (RFC 5987).
                    files.append((part.name or "", unquote(part.filename), bytes(data)))
            else:
                fields.setdefault(part.name or "", []).append(await part.text())
    else:
        post: MultiDictProxy[str | bytes] = await request.post()  # type: ignore[assignment]
        for key, value in post.items():
            fields.setdefault(key, []).append(str(value))
    return fields, files


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0].strip()


def _items(fields: dict[str, list[str]]) -> list[tuple[int, str, int]]:
    products = fields.get("product_id", [])
    rooms = fields.get("room", [])
    qtys = fields.get("quantity", [])
    rows = []
    for i, pid in enumerate(products):
        if not pid:
            continue
        room = rooms[i] if i < len(rooms) else ""
        qty = _int(qtys[i] if i < len(qtys) else "1", 0)
        rows.append((_int(pid, -1), room, qty))
    return rows


@routes.get("/h5/orders/new", name="order_new")
@h5_page
async def order_new(request: web.Request) -> web.Response:
    staff = api_staff(request)
    if not staff.has_role(Role.SALES):
        return render(request, "message.html", title="无法开单", message="只有销售可以新建订单。", status=403)
    return render(
        request,
        "order_new.html",
        products=await _products(),
        form={},
        error=None,
        field="",
        csrf=csrf_token(staff),
        today=local_today().isoformat(),
    )


@routes.post("/h5/orders/new")
@h5_page
async def order_create(request: web.Request) -> web.Response:
    staff = api_staff(request)
    form: dict[str, list[str]] = {}
    try:
        form, files = await _read_form(request)
        check_csrf(request, staff, _one(form, "csrf"))
        photo: StoredFile | None = None
        for name, _filename, data in files:
            if name == "paper_photo":
                photo = await runtime().files.put_image(data)
        order = await create_order(
            actor=staff,
            number=_one(form, "number"),
            customer_name=_one(form, "customer_name"),
            phone=_one(form, "phone"),
            address=_one(form, "address"),
            items=[ItemInput(product_id=p, room=r, quantity=q) for p, r, q in _items(form)],
            expected_measure_date=_date(_one(form, "expected_measure_date"), "expected_measure_date"),
            note=_one(form, "note"),
            paper_photo=photo,
        )
    except (WorkflowError, RejectedFile) as exc:
        message = exc.message if isinstance(exc, WorkflowError) else str(exc)
        return render(
            request,
            "order_new.html",
            status=400,
            products=await _products(),
            form={k: v for k, v in form.items()},
            error=message,
            field=getattr(exc, "field", "paper_photo" if isinstance(exc, RejectedFile) else ""),
            csrf=csrf_token(staff),
            today=local_today().isoformat(),
        )
    raise web.HTTPFound(f"/h5/orders/{order.number}?created=1")


@routes.get("/h5/orders", name="order_list")
@h5_page
async def order_list(request: web.Request) -> web.Response:
    staff = api_staff(request)
    orders = await visible_orders(staff)
    return render(request, "order_list.html", orders=orders)


async def _order_or_404(request: web.Request) -> Order:
    try:
        return await get_order_for(api_staff(request), request.match_info["number"])
    except WorkflowError as exc:
        raise web.HTTPNotFound(
            text=render(request, "message.html", title="订单不存在", message=exc.message).text,
            content_type="text/html",
        ) from exc


@routes.get("/h5/orders/{number}", name="order_detail")
@h5_page
async def order_detail(request: web.Request) -> web.Response:
    staff = api_staff(request)
    order = await _order_or_404(request)
    view = await order_view(order, with_timeline=True)
    files = await order_files(order)
    tasks = await Task.filter(order_id=order.id).order_by("id").prefetch_related("assignee")
    my_measure = next(
        (t for t in tasks if t.kind == TaskKind.MEASURE and t.assignee_id == staff.id and t.state in OPEN_TASK_STATES),
        None,
    )
    return render(
        request,
        "order_detail.html",
        order=order,
        view=view,
        files=files,
        tasks=tasks,
        created=request.query.get("created") == "1",
        my_measure=my_measure,
        can_dispatch=staff.has_role(Role.MEASURE_DISPATCHER) and order.state == OrderState.CREATED,
    )


@routes.get("/h5/orders/{number}/dispatch", name="order_dispatch")
@h5_page
async def dispatch_page(request: web.Request) -> web.Response:
    return await _dispatch_form(request, error=None)


async def _dispatch_form(request: web.Request, *, error: str | None, status: int = 200) -> web.Response:
    staff = api_staff(request)
    order = await _order_or_404(request)
    if not staff.has_role(Role.MEASURE_DISPATCHER):
        return render(request, "message.html", title="无法派单", message="只有测量派单员可以派单。", status=403)
    try:
        day = _date(request.query.get("date", ""), "date") or max(
            order.expected_measure_date or local_today(), local_today()
        )
    except Invalid:
        day = local_today()
    ranked = await rank_measurers(dispatcher=staff, day=day)
    return render(
        request,
        "dispatch.html",
        status=status,
        order=order,
        view=await order_view(order, with_timeline=True),
        day=day,
        ranked=ranked,
        error=error,
        csrf=csrf_token(staff),
        today=local_today().isoformat(),
    )


@routes.post("/h5/orders/{number}/dispatch")
@h5_page
async def dispatch_submit(request: web.Request) -> web.Response:
    staff = api_staff(request)
    order = await _order_or_404(request)
    form, _ = await _read_form(request)
    check_csrf(request, staff, _one(form, "csrf"))
    try:
        day = _date(_one(form, "date"), "date")
        if day is None:
            raise Invalid("请选择测量日期", "date")
        measurer_id = _int(_one(form, "measurer_id"), -1)
        if measurer_id < 0:
            raise Invalid("请选择测量员", "measurer")
        await dispatch_measure(actor=staff, order=order, measurer_id=measurer_id, day=day)
    except WorkflowError as exc:
        return await _dispatch_form(
            request, error=exc.message, status=409 if exc.__class__.__name__ == "Conflict" else 400
        )
    raise web.HTTPFound(f"/h5/orders/{order.number}")


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
        "products": await _products(),
        "counts": counts,
        "drawings": [f for f in files if f.category == AttachmentCategory.DRAWING],
        "photos": [f for f in files if f.category in (*SITE_PHOTO_CATEGORIES, AttachmentCategory.UNSORTED)],
        "csrf": csrf_token(api_staff(request)),
        "categories": SITE_PHOTO_CATEGORIES,
        "unsorted": AttachmentCategory.UNSORTED,
    }


@routes.get("/h5/orders/{number}/measure", name="order_measure")
@h5_page
async def measure_page(request: web.Request) -> web.Response:
    order = await _order_or_404(request)
    notice = {"drawings": "图纸已上传", "items": "产品与房间已保存"}.get(request.query.get("saved", ""))
    return render(request, "measure.html", error=None, notice=notice, **await _measure_context(request, order))


@routes.post("/h5/orders/{number}/measure")
@h5_page
async def measure_submit(request: web.Request) -> web.Response:
    staff = api_staff(request)
    order = await _order_or_404(request)
    form: dict[str, list[str]] = {}
    try:
        form, files = await _read_form(request)
        check_csrf(request, staff, _one(form, "csrf"))
        action = _one(form, "action")
        if action == "drawings":
            if not files:
                raise Invalid("请选择要上传的图纸文件")
            stored = [(name, await runtime().files.put_document(data)) for _, name, data in files]
            for filename, item in stored:
                await add_drawing(actor=staff, order=order, stored=item, filename=filename)
            raise web.HTTPFound(f"/h5/orders/{order.number}/measure?saved=drawings")
        if action == "items":
            rows = _items(form)
            await adjust_items(
                actor=staff, order=order, items=[ItemChange(room=r, product_id=p, quantity=q) for p, r, q in rows]
            )
            raise web.HTTPFound(f"/h5/orders/{order.number}/measure?saved=items")
        if action == "finish":
            await finish_measure(actor=staff, order=order)
            raise web.HTTPFound(f"/h5/orders/{order.number}?measured=1")
        raise Invalid("未知的操作")
    except (WorkflowError, RejectedFile) as exc:
        message = exc.message if isinstance(exc, WorkflowError) else str(exc)
        await order.refresh_from_db()
        return render(
            request, "measure.html", status=400, error=message, notice=None, **await _measure_context(request, order)
        )


@routes.get("/h5/orders/{number}/gallery", name="order_gallery")
@h5_page
async def gallery(request: web.Request) -> web.Response:
    order = await _order_or_404(request)
    files = await order_files(order)
    groups = [
        (c.label, [f for f in files if f.category == c])
        for c in (*SITE_PHOTO_CATEGORIES, AttachmentCategory.UNSORTED, AttachmentCategory.PAPER_ORDER)
    ]
    return render(
        request,
        "gallery.html",
        order=order,
        view=await order_view(order),
        groups=[g for g in groups if g[1]],
        drawings=[f for f in files if f.category == AttachmentCategory.DRAWING],
    )


async def _attachment_for(request: web.Request) -> Attachment:
    attachment = await Attachment.get_or_none(id=_int(request.match_info["id"], -1))
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
    base = attachment.filename or attachment.category.label
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
    order = await _order_or_404(request)
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
