"""The customer's own order page (/c/<token>): no account, only the signed link (workflow/customer_link.py).
Where the order is and what comes next, the products, the install photos, the signature step, the
visit's rating, and a request to move a booked visit. Rate-limited per address like the signing page.

And staff's side of it (客户查看链接): the link with its QR code to send, and taking every link back.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from infra.errors import UserError
from infra.timeutil import local_today
from models import Attachment, AttachmentCategory, DayPart, Order, Staff, TaskKind
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.forms import Fields, Files, form_page, one, order_or_404, to_date, to_int
from webviews.render import qr_png, render
from webviews.signing import file_response, limited
from workflow.customer_link import order_for_customer_link
from workflow.customer_page import customer_link_for, revoke_customer_page
from workflow.customer_requests import AHEAD_DAYS, NOTE_LIMIT, request_reschedule
from workflow.customer_view import customer_view
from workflow.errors import Invalid, WorkflowError
from workflow.order_lifecycle import ORDER
from workflow.selectors import order_view
from workflow.signing import LinkProblem, signing_url
from workflow.tickets import tickets_for_customer

routes = web.RouteTableDef()

PREFIX = "/c"
# What a redirect back to the page confirms (?done=<key>): keys, so a link cannot make the page say
# something Relay did not do.
DONE = {"reschedule": "已提交改期申请，我们会尽快与您确认新的时间。"}


def _problem(request: web.Request, problem: LinkProblem) -> web.Response:
    return render(request, "message.html", title=problem.title, message=problem.message, status=403)


async def _page(
    request: web.Request,
    order: Order,
    *,
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> web.Response:
    token = request.match_info["token"]
    view = await customer_view(order)
    tickets = await tickets_for_customer(order)
    today = local_today()
    return render(
        request,
        "customer_page.html",
        status=status,
        c=view,
        base=f"{PREFIX}/{token}",
        sign_url=signing_url(order) if view.may_sign else "",
        error=error,
        done=DONE.get(request.query.get("done", "")),
        form=form or {},
        parts=list(DayPart),
        min_date=today.isoformat(),
        max_date=(today.fromordinal(today.toordinal() + AHEAD_DAYS)).isoformat(),
        note_limit=NOTE_LIMIT,
        tickets=tickets,
        may_report=await ORDER.may(ORDER["open_ticket"], None, order),
    )


@routes.get(PREFIX + "/{token}")
@limited
async def customer_page(request: web.Request) -> web.Response:
    try:
        order = await order_for_customer_link(request.match_info["token"])
    except LinkProblem as problem:
        return _problem(request, problem)
    return await _page(request, order)


@routes.post(PREFIX + "/{token}/reschedule")
@limited
async def customer_reschedule(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    try:
        order = await order_for_customer_link(token)
    except LinkProblem as problem:
        return _problem(request, problem)
    form = {k: str(v) for k, v in (await request.post()).items()}
    try:
        wanted = to_date(form.get("wanted_date", "").strip(), "wanted_date")
        if wanted is None:
            raise Invalid("请选择希望的日期", "wanted_date")
        try:
            part = DayPart(form.get("wanted_part", DayPart.ANY.value))
        except ValueError:
            raise Invalid("请选择上午、下午或全天均可", "wanted_part") from None
        try:
            kind = TaskKind(form.get("kind", ""))
        except ValueError:
            raise Invalid("请选择要改期的预约", "kind") from None
        await request_reschedule(order=order, kind=kind, wanted=wanted, part=part, note=form.get("note", ""))
    except UserError as refused:
        return await _page(request, order, error=refused.message, status=refused.status, form=form)
    raise web.HTTPFound(f"{PREFIX}/{token}?done=reschedule")


@routes.get(PREFIX + "/{token}/files/{id}")
async def customer_file(request: web.Request) -> web.StreamResponse:
    """The install photos and the signature, for whoever holds this order's valid link."""
    try:
        order = await order_for_customer_link(request.match_info["token"])
    except LinkProblem as problem:
        return _problem(request, problem)
    attachment = await Attachment.get_or_none(
        id=to_int(request.match_info["id"], -1),
        order_id=order.id,
        category__in=[AttachmentCategory.INSTALL, AttachmentCategory.SIGNATURE],
        removed_at__isnull=True,
    )
    if attachment is None:
        raise web.HTTPNotFound(text="文件不存在")
    return await file_response(request, attachment)


# Staff: 客户查看链接 on the order page


STAFF_PAGE = "/h5/orders/{number}/customer-page"


async def _share_page(request: web.Request, *, error: str | None = None, status: int = 200, **_: Any) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    try:
        link = await customer_link_for(actor=staff, order=order)
    except WorkflowError:
        link = ""
    return render(
        request,
        "customer_share.html",
        status=status,
        order=order,
        view=await order_view(order),
        link=link,
        can_revoke=await ORDER.may(ORDER["revoke_customer_page"], staff, order),
        confirming=request.query.get("confirm") == "revoke",
        revoked=request.query.get("done") == "revoked",
        error=error,
        csrf=csrf_token(staff),
    )


async def _share_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    if one(form, "action") != "revoke":
        raise Invalid("未知的操作")
    if one(form, "confirm") != "1":
        await ORDER.check(ORDER["revoke_customer_page"], staff, order)
        return f"/h5/orders/{order.number}/customer-page?confirm=revoke"
    await revoke_customer_page(actor=staff, order=order)
    return f"/h5/orders/{order.number}/customer-page?done=revoked"


form_page(routes, STAFF_PAGE, _share_page, _share_action, order_or_404)


@routes.get("/h5/orders/{number}/customer-page-qr.png")
@h5_page
async def customer_page_qr(request: web.Request) -> web.Response:
    order = await order_or_404(request)
    try:
        link = await customer_link_for(actor=api_staff(request), order=order)
    except WorkflowError:
        raise web.HTTPNotFound(text="没有可以显示的链接") from None
    return await qr_png(link)
