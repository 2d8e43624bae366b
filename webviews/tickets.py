"""Service tickets on H5 (售后工单): staff open one from the order page and work it on its own page (派单,
接单 / 拒单, photos before and after, 完成, 改期, 改派, 办结, 取消); the customer reports a problem and
confirms the work beside their own order page (`/c/{token}/problem`, `/c/{token}/tickets/{id}`), without
an account: the link is the key, rate-limited per address like the signing page."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import BodyPartReader, web

from infra.runtime import runtime
from infra.storage import RejectedFile, StoredFile
from infra.timeutil import local_today
from models import Attachment, AttachmentCategory, Order, Staff, Ticket, TicketKind, TicketSource, TicketState
from webviews.auth import api_staff, csrf_token
from webviews.forms import Fields, Files, form_page, one, order_or_404, to_date, to_int
from webviews.render import render
from webviews.signing import file_response, limited
from workflow.customer_link import order_for_customer_link
from workflow.errors import Conflict, Invalid, NotFound, WorkflowError
from workflow.order_lifecycle import ORDER
from workflow.privacy import may_call
from workflow.selectors import order_view
from workflow.signing import LinkProblem
from workflow.ticket_lifecycle import TICKET
from workflow.tickets import (
    CUSTOMER_KINDS,
    CUSTOMER_WORDS,
    STAFF_KINDS,
    add_ticket_photo,
    answer_ticket,
    confirm_ticket,
    customer_ticket,
    customer_ticket_url,
    dispatch_ticket,
    finish_ticket,
    open_ticket,
    reassign_ticket,
    report_problem,
    reschedule_ticket,
    settle_ticket,
    suggestion_for,
    tickets_for_customer,
    visible_ticket,
)

routes = web.RouteTableDef()

PHOTO_GROUPS = (AttachmentCategory.TICKET_REPORT, AttachmentCategory.TICKET_BEFORE, AttachmentCategory.TICKET_AFTER)


async def _store_photos(files: Files) -> list[StoredFile]:
    """Before any transaction: each photo checked and stored (a file that is not a photo is refused)."""
    stored = []
    for _, filename, data in files:
        try:
            stored.append(await runtime().files.put_image(data))
        except RejectedFile as exc:
            raise Invalid(f"照片 {filename[:40]} 没有保存：{exc.message}", "photos") from None
    return stored


# Staff: a new ticket from the order page (报修)


async def _new_page(
    request: web.Request,
    *,
    error: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    **_: Any,
) -> web.Response:
    staff = api_staff(request)
    order = await order_or_404(request)
    refusal = None
    try:
        await ORDER.check(ORDER["open_ticket"], staff, order)
    except Conflict:
        refusal = f"订单 {order.number} {order.state.label}，安装完成后才能报修"
    except WorkflowError as refused:
        return render(request, "message.html", title="不能报修", message=refused.message, status=refused.status)
    return render(
        request,
        "ticket_new.html",
        status=status if refusal is None else 409,
        order=order,
        view=await order_view(order),
        kinds=STAFF_KINDS,
        csrf=csrf_token(staff),
        error=error or refusal,
        closed=refusal is not None,
        errors=errors or {},
        form=form or {},
        max_photos=runtime().config.tickets.max_photos,
    )


async def _new_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    try:
        kind = TicketKind(one(form, "kind"))
    except ValueError:
        raise Invalid("请选择工单类型", "kind") from None
    photos = await _store_photos([f for f in files if f[0] == "photos"])
    ticket = await open_ticket(
        actor=staff,
        order=order,
        kind=kind,
        source=TicketSource.STAFF_H5,
        description=one(form, "description"),
        photos=photos,
    )
    return f"/h5/orders/{order.number}/tickets/{ticket.id}?done=opened"


form_page(routes, "/h5/orders/{number}/tickets/new", _new_page, _new_action, order_or_404)


# Staff: one ticket's page


DONE = {
    "opened": "工单已创建，已通知售后派单。",
    "dispatch": "已派单，已通知师傅。",
    "accept": "已接单。",
    "decline": "已拒单，已通知售后重新派单。",
    "add_photo": "照片已保存。",
    "finish": "已完成，请把客户确认链接发给客户。",
    "reschedule": "已改期。",
    "reassign": "已改派。",
    "close": "工单已办结。",
    "cancel": "工单已取消。",
}


async def _ticket_of(request: web.Request) -> tuple[Ticket, Order]:
    staff = api_staff(request)
    try:
        ticket, order = await visible_ticket(staff, to_int(request.match_info["id"], -1))
    except NotFound as missing:
        raise web.HTTPNotFound(
            text=render(request, "message.html", title="工单不存在", message=missing.message).text,
            content_type="text/html",
        ) from None
    if order.number != request.match_info["number"].strip().upper():
        raise web.HTTPNotFound(
            text=render(request, "message.html", title="工单不存在", message="工单不存在").text,
            content_type="text/html",
        )
    return ticket, order


async def _ticket_page(
    request: web.Request,
    *,
    error: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    **_: Any,
) -> web.Response:
    staff = api_staff(request)
    ticket, order = await _ticket_of(request)
    steps = {t.name for t in await TICKET.available(staff, ticket, order)}
    photos = await Attachment.filter(ticket_id=ticket.id, removed_at__isnull=True).order_by("id")
    ranked = await suggestion_for(order, staff) if steps & {"dispatch", "reassign"} else []
    assignee = await Staff.get_or_none(id=ticket.assignee_id) if ticket.assignee_id else None
    view = await order_view(order, with_timeline=True)
    return render(
        request,
        "ticket.html",
        status=status,
        ticket=ticket,
        order=order,
        view=view,
        lines=[line for line in view.timeline if ticket.number in line],
        steps=steps,
        groups=[(c.label, [p for p in photos if p.category == c]) for c in PHOTO_GROUPS],
        ranked=ranked,
        assignee=assignee,
        confirm_url=customer_ticket_url(order, ticket) if ticket.state == TicketState.DONE else "",
        csrf=csrf_token(staff),
        error=error,
        errors=errors or {},
        form=form or {},
        notice=DONE.get(request.query.get("done", "")),
        today=local_today().isoformat(),
        can_call=await may_call(staff, order),
    )


async def _ticket_subject(request: web.Request) -> Ticket:
    ticket, _ = await _ticket_of(request)
    return ticket


async def _ticket_action(staff: Staff, ticket: Ticket, form: Fields, files: Files) -> str:
    action = one(form, "action")
    order = await Order.get(id=ticket.order_id)
    if action == "dispatch":
        await dispatch_ticket(
            actor=staff,
            ticket_id=ticket.id,
            worker_id=to_int(one(form, "worker"), -1),
            day=to_date(one(form, "date"), "date"),
        )
    elif action in ("accept", "decline"):
        await answer_ticket(actor=staff, ticket_id=ticket.id, accept=action == "accept", reason=one(form, "reason"))
    elif action == "add_photo":
        photos = [f for f in files if f[0] == "photos"]
        if not photos:
            raise Invalid("请选择照片", "photos")
        stored = await _store_photos(photos)
        for one_photo in stored:
            await add_ticket_photo(actor=staff, ticket=ticket, stored=one_photo, after=one(form, "when") == "after")
    elif action == "finish":
        await finish_ticket(actor=staff, ticket_id=ticket.id, resolution=one(form, "resolution"))
    elif action == "reschedule":
        await reschedule_ticket(
            actor=staff, ticket_id=ticket.id, day=to_date(one(form, "date"), "date"), reason=one(form, "reason")
        )
    elif action == "reassign":
        await reassign_ticket(
            actor=staff, ticket_id=ticket.id, worker_id=to_int(one(form, "worker"), -1), reason=one(form, "reason")
        )
    elif action in ("close", "cancel"):
        await settle_ticket(actor=staff, ticket_id=ticket.id, reason=one(form, "reason"), cancel=action == "cancel")
    else:
        raise Invalid("未知的操作")
    return f"/h5/orders/{order.number}/tickets/{ticket.id}?done={action}"


form_page(routes, "/h5/orders/{number}/tickets/{id:\\d+}", _ticket_page, _ticket_action, _ticket_subject)


# The customer's side: no account, only the order's link.


def _link_problem(request: web.Request, problem: LinkProblem) -> web.Response:
    return render(request, "message.html", title=problem.title, message=problem.message, status=403)


def _no_ticket(request: web.Request, message: str) -> web.Response:
    return render(request, "message.html", title="服务单不存在", message=message, status=404)


async def _read_customer_form(request: web.Request) -> tuple[dict[str, str], list[bytes]]:
    """The problem form: a few fields and at most tickets.max_photos photos, each within the image limit.
    Too many or too large is refused before anything is stored."""
    config = runtime().config
    most = config.tickets.max_photos
    limit = runtime().files.max_image_bytes
    if request.content_length is not None and request.content_length > most * limit + 65536:
        raise Invalid(f"照片太大或太多：最多 {most} 张，每张 {limit // 1048576} MB 以内", "photos")
    fields: dict[str, str] = {}
    photos: list[bytes] = []
    if not request.content_type.startswith("multipart/"):
        for key, value in (await request.post()).items():
            fields[key] = str(value)
        return fields, photos
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.filename is not None:
            data = bytes(await part.read(decode=False))
            if not data:
                continue
            if len(photos) >= most:
                raise Invalid(f"最多上传 {most} 张照片", "photos")
            if len(data) > limit:
                raise Invalid(f"每张照片请在 {limit // 1048576} MB 以内", "photos")
            photos.append(data)
        elif part.name:
            fields[part.name] = (await part.text())[:4000]
    return fields, photos


async def _problem_page(
    request: web.Request,
    order: Order,
    *,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    fields: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    token = request.match_info["token"]
    can_report = await ORDER.may(ORDER["open_ticket"], None, order)
    customer = await order.customer
    return render(
        request,
        "customer_problem.html",
        status=status,
        order=order,
        customer=customer,
        token=token,
        kinds=[(key, label) for key, (_, label) in CUSTOMER_KINDS.items()],
        can_report=can_report,
        tickets=await tickets_for_customer(order),
        error=error,
        errors=errors or {},
        fields=fields or {},
        max_photos=runtime().config.tickets.max_photos,
    )


@routes.get("/c/{token}/problem")
@limited
async def problem_page(request: web.Request) -> web.StreamResponse:
    try:
        order = await order_for_customer_link(request.match_info["token"])
    except LinkProblem as problem:
        return _link_problem(request, problem)
    return await _problem_page(request, order)


@routes.post("/c/{token}/problem")
@limited
async def problem_submit(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    try:
        order = await order_for_customer_link(token)
    except LinkProblem as problem:
        return _link_problem(request, problem)
    fields: dict[str, str] = {}
    try:
        fields, photos = await _read_customer_form(request)
        stored = []
        for data in photos:
            try:
                stored.append(await runtime().files.put_image(data))
            except RejectedFile as exc:
                raise Invalid(f"照片没有保存：{exc.message}", "photos") from None
        ticket, order = await report_problem(
            token=token, what=fields.get("what", ""), description=fields.get("description", ""), photos=stored
        )
    except LinkProblem as problem:
        return _link_problem(request, problem)
    except WorkflowError as refused:
        return await _problem_page(
            request, order, error=refused.message, errors=refused.errors, fields=fields, status=refused.status
        )
    raise web.HTTPFound(f"/c/{token}/tickets/{ticket.id}?sent=1")


async def _customer_ticket_page(
    request: web.Request, ticket: Ticket, order: Order, *, error: str | None = None, status: int = 200
) -> web.Response:
    token = request.match_info["token"]
    photos = await Attachment.filter(ticket_id=ticket.id, removed_at__isnull=True).order_by("id")
    shown = [p for p in photos if p.category in PHOTO_GROUPS]
    signature = next((p for p in photos if p.category == AttachmentCategory.SIGNATURE), None)
    return render(
        request,
        "customer_ticket.html",
        status=status,
        ticket=ticket,
        order=order,
        token=token,
        words=CUSTOMER_WORDS[TicketState(ticket.state)],
        groups=[(c.label, [p for p in shown if p.category == c]) for c in PHOTO_GROUPS],
        signature=signature,
        can_confirm=await TICKET.may(TICKET["confirm"], None, ticket, order),
        sent=request.query.get("sent") == "1",
        error=error,
    )


async def _customer_ticket(request: web.Request) -> tuple[Ticket, Order] | web.Response:
    ticket_id = to_int(request.match_info["id"], -1)
    try:
        return await customer_ticket(request.match_info["token"], ticket_id)
    except LinkProblem as problem:
        return _link_problem(request, problem)
    except NotFound as missing:
        return _no_ticket(request, missing.message)


@routes.get("/c/{token}/tickets/{id}")
@limited
async def customer_ticket_page(request: web.Request) -> web.StreamResponse:
    found = await _customer_ticket(request)
    if isinstance(found, web.Response):
        return found
    return await _customer_ticket_page(request, *found)


MAX_SIGNATURE_BODY = 3 * 1024 * 1024


@routes.post("/c/{token}/tickets/{id}")
@limited
async def customer_ticket_confirm(request: web.Request) -> web.StreamResponse:
    found = await _customer_ticket(request)
    if isinstance(found, web.Response):
        return found
    ticket, order = found
    token = request.match_info["token"]
    if request.content_length is not None and request.content_length > MAX_SIGNATURE_BODY:
        return await _customer_ticket_page(request, ticket, order, error="签名图片太大", status=413)
    form = await request.post()
    data_url = str(form.get("signature", "")).strip()
    png = None
    if data_url:
        prefix = "data:image/png;base64,"
        try:
            if not data_url.startswith(prefix):
                raise ValueError
            png = base64.b64decode(data_url[len(prefix) :], validate=True)
        except (ValueError, binascii.Error):
            return await _customer_ticket_page(request, ticket, order, error="签名格式不正确，请重新签字", status=400)
    try:
        await confirm_ticket(token=token, ticket_id=ticket.id, comment=str(form.get("comment", "")), signature=png)
    except LinkProblem as problem:
        return _link_problem(request, problem)
    except WorkflowError as refused:
        await ticket.refresh_from_db()
        return await _customer_ticket_page(request, ticket, order, error=refused.message, status=refused.status)
    raise web.HTTPFound(f"/c/{token}/tickets/{ticket.id}")


@routes.get("/c/{token}/tickets/{id}/files/{file}")
@limited
async def customer_ticket_file(request: web.Request) -> web.StreamResponse:
    """The ticket's photos, for whoever holds this order's valid link."""
    found = await _customer_ticket(request)
    if isinstance(found, web.Response):
        return found
    ticket, _ = found
    attachment = await Attachment.get_or_none(
        id=to_int(request.match_info["file"], -1),
        ticket_id=ticket.id,
        removed_at__isnull=True,
        category__in=[*PHOTO_GROUPS, AttachmentCategory.SIGNATURE],
    )
    if attachment is None:
        raise web.HTTPNotFound(text="文件不存在")
    return await file_response(request, attachment)
