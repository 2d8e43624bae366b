"""Showroom bookings (预约) on H5: the list with the override (改派) drop-down, the staff's booking form
with the phone check, a lead's page with its steps (from the lead table), and each store's public
booking page (no sign-in: rate-limited per address, with a honeypot field that people never see)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from infra.errors import UserError
from infra.timeutil import fmt_time, local_moment
from models import AuditAction, LeadSource, Staff
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page, over_limit
from webviews.forms import Fields, Files, form_page, no_subject, one, products, read_form, to_int
from webviews.render import render
from workflow import audit
from workflow.errors import Invalid, WorkflowError
from workflow.lead_lifecycle import LEAD, NEEDS_CONSULTANT, NEEDS_REASON, OPEN
from workflow.leads import (
    EVENT_LABELS,
    NEED_LEVELS,
    LeadInput,
    colleagues,
    create_lead,
    history,
    import_leads,
    lead_for,
    leads_for,
    may_see,
    offered,
    phone_for,
    phone_hint,
    store_for,
    stores_for,
    take,
)

routes = web.RouteTableDef()

HONEYPOT = "website"  # hidden from people by the page's style; a bot filling every field fills it


def _when(form: Fields) -> datetime | None:
    text = one(form, "wanted_at")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid("预约时间格式不正确", "wanted_at") from exc
    return local_moment(moment.date(), moment.time())


def _input(form: Fields) -> LeadInput:
    return LeadInput(
        name=one(form, "name"),
        phone=one(form, "phone"),
        need_level=one(form, "need_level"),
        product_ids=tuple(to_int(p, -1) for p in form.get("product_id", []) if p),
        products=one(form, "products"),
        wanted_at=_when(form),
        note=one(form, "note"),
    )


# The list


@routes.get("/h5/leads")
@h5_page
async def leads_page(request: web.Request) -> web.Response:
    staff = api_staff(request)
    rows = []
    for lead in await leads_for(staff, state=request.query.get("state", "")):
        steps = await offered(staff, lead)
        consultant = await Staff.get_or_none(id=lead.consultant_id) if lead.consultant_id else None
        rows.append(
            {
                "lead": lead,
                "phone": await phone_for(staff, lead),
                "consultant": consultant.name if consultant else "",
                "wanted": fmt_time(lead.wanted_at) if lead.wanted_at else "",
                "reassign": any(t.name == "reassign" for t in steps),
                "colleagues": await colleagues(lead) if any(t.name == "reassign" for t in steps) else [],
            }
        )
    return render(
        request,
        "leads.html",
        rows=rows,
        csrf=csrf_token(staff),
        may_book=await _may_book(staff),
        notice=request.query.get("done", ""),
        # Each store's public booking page, to share (a QR code in the showroom, the website).
        public=[(s.name, f"/h5/book/{s.id}") for s in await stores_for(staff)] if await _may_book(staff) else [],
    )


def _book_refusal(staff: Staff) -> str | None:
    """Why the member may not book (the lead table's row `book`), or None."""
    try:
        LEAD.check_role(LEAD["book"], staff)
    except WorkflowError as refused:
        return refused.message
    return None


async def _may_book(staff: Staff) -> bool:
    return _book_refusal(staff) is None


# A CSV file of bookings (the same columns as `relay leads import`)


@routes.post("/h5/leads/import")
@h5_page
async def import_page(request: web.Request) -> web.Response:
    staff = api_staff(request)
    try:
        form, files = await read_form(request)
        check_csrf(request, staff, one(form, "csrf"))
        upload = next((data for name, _, data in files if name == "file"), None)
        if upload is None:
            raise Invalid("请选择 CSV 文件", "file")
        try:
            text = upload.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("文件应为 UTF-8 编码的 CSV（Excel 另存为“CSV UTF-8”）", "file") from None
        result = await import_leads(text, actor=staff)
    except UserError as refused:
        return render(request, "message.html", title="无法导入", message=refused.message, status=refused.status)
    return render(request, "lead_import.html", created=result.created, errors=result.errors)


# Booking by staff


async def _new_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = api_staff(request)
    if (refused := _book_refusal(staff)) is not None:
        return render(request, "message.html", title="无法登记预约", message=refused, status=403)
    return render(
        request,
        "lead_new.html",
        status=status,
        stores=await stores_for(staff),
        products=await products(),
        levels=NEED_LEVELS,
        form=form or {},
        error=error,
        errors=errors or {},
        csrf=csrf_token(staff),
    )


async def _create(staff: Staff, _: None, form: Fields, files: Files) -> str:
    store = await store_for(staff, to_int(one(form, "store"), -1))
    lead = await create_lead(actor=staff, store=store, data=_input(form), source=LeadSource.STAFF)
    return f"/h5/leads/{lead.number}?created=1"


form_page(routes, "/h5/leads/new", _new_page, _create, no_subject)


@routes.get("/h5/leads/phone-check")
@h5_page
async def phone_check(request: web.Request) -> web.Response:
    """The seed's 号码重复提示: orders and bookings already made with the phone, and the customer's name
    to fill the form with in one tap. For those who book only."""
    if (refused := _book_refusal(api_staff(request))) is not None:
        return web.json_response({"valid": False, "message": refused}, status=403)
    try:
        hint = await phone_hint(request.query.get("phone", ""))
    except Invalid as refused:
        return web.json_response({"valid": False, "message": refused.message})
    staff = api_staff(request)
    # A booking already made with the phone: its page (with 到店 for who may record it), if theirs to see.
    found = [x for x in hint.leads if x.state in OPEN and await may_see(staff, x)]
    return web.json_response(
        {
            "valid": True,
            "message": hint.message,
            "name": hint.customer_name,
            "leads": [{"number": x.number, "state": x.state.label, "url": f"/h5/leads/{x.number}"} for x in found],
        }
    )


# One lead


@routes.get("/h5/leads/{number}")
@h5_page
async def lead_page(request: web.Request) -> web.Response:
    return await _lead_page(request)


async def _lead_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    staff = api_staff(request)
    try:
        lead = await lead_for(staff, request.match_info["number"])
    except WorkflowError as refused:
        return render(request, "message.html", title="预约不存在", message=refused.message, status=refused.status)
    steps = await offered(staff, lead)
    consultant = await Staff.get_or_none(id=lead.consultant_id) if lead.consultant_id else None
    phone = await phone_for(staff, lead)
    # Who opened a booking, and whether its phone was shown in full: the booking by number, no personal data.
    await audit.record(
        AuditAction.LEAD_VIEW,
        actor=staff,
        ip=request.remote or "",
        lead=lead.number,
        phone="masked" if "*" in phone else "full",
    )
    return render(
        request,
        "lead.html",
        status=status,
        lead=lead,
        phone=phone,
        consultant=consultant,
        wanted=fmt_time(lead.wanted_at) if lead.wanted_at else "",
        steps=steps,
        needs_reason=NEEDS_REASON,
        needs_consultant=NEEDS_CONSULTANT,
        colleagues=await colleagues(lead, staff),
        everyone=await colleagues(lead),
        focus=request.query.get("step", ""),
        events=[(e, who, whom, EVENT_LABELS[e.kind], fmt_time(e.created_at)) for e, who, whom in await history(lead)],
        error=error,
        created=request.query.get("created") == "1",
        csrf=csrf_token(staff),
    )


@routes.post("/h5/leads/{number}/step")
@h5_page
async def lead_step(request: web.Request) -> web.Response:
    staff = api_staff(request)
    try:
        form, _ = await read_form(request)
        check_csrf(request, staff, one(form, "csrf"))
        lead = await lead_for(staff, request.match_info["number"])
        to = await Staff.get_or_none(id=to_int(one(form, "consultant"), -1)) if one(form, "consultant") else None
        lead = await take(staff, lead, one(form, "step"), reason=one(form, "reason"), to=to)
    except UserError as refused:
        return await _lead_page(request, error=refused.message, status=refused.status)
    back = one(form, "back")
    raise web.HTTPFound("/h5/leads?done=" + lead.number if back == "list" else f"/h5/leads/{lead.number}")


# The store's public booking page


def limited(
    handler: Callable[[web.Request], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Bookings from one address are limited across every process (security.book_per_minute)."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.Response:
        if request.method == "POST":
            refused = await over_limit(request, "book", request.remote or "")
            if refused is not None:
                return refused
        return await handler(request)

    return wrapper


async def _public_page(request: web.Request, **context: Any) -> web.Response:
    try:
        store = await store_for(None, to_int(request.match_info["store"], -1))
    except WorkflowError:
        return render(
            request, "message.html", title="门店不存在", message="没有找到这家门店，请核对预约链接", status=404
        )
    return render(
        request,
        "book.html",
        status=context.pop("status", 200),
        store=store,
        products=await products(),
        honeypot=HONEYPOT,
        form=context.pop("form", {}),
        errors=context.pop("errors", {}),
        error=context.pop("error", ""),
        **context,
    )


@routes.get("/h5/book/{store}")
@limited
async def public_page(request: web.Request) -> web.Response:
    return await _public_page(request)


@routes.post("/h5/book/{store}")
@limited
async def public_book(request: web.Request) -> web.Response:
    form: Fields = {}
    try:
        form, _ = await read_form(request)
        store = await store_for(None, to_int(request.match_info["store"], -1))
        if one(form, HONEYPOT):
            # A bot: thanked as a person would be, and nothing is kept.
            return render(request, "book_done.html", store=store, number="")
        lead = await create_lead(actor=None, store=store, data=_input(form), source=LeadSource.PUBLIC)
    except UserError as refused:
        status = refused.status if refused.status != 403 else 400
        return await _public_page(request, error=refused.message, errors=refused.errors, form=form, status=status)
    return render(request, "book_done.html", store=store, number=lead.number)
