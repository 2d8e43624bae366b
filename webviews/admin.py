"""Admins' pages for personal data: the audit log (filters, CSV) and a customer's rights under PIPL
(export everything held about them, erase it)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from infra.timeutil import local_today
from models import AuditAction, OrgUnit, Role, Staff
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.forms import one, read_form, to_date, to_int
from webviews.render import render
from workflow import audit
from workflow.errors import NotAllowed, WorkflowError
from workflow.privacy import erase_customer, export_customer, find_customers

routes = web.RouteTableDef()


def _admin(request: web.Request) -> Staff:
    staff = api_staff(request)
    if not staff.has_role(Role.ADMIN):
        raise NotAllowed("只有管理员可以查看")  # the error middleware answers 403 with the message
    return staff


def _filter(request: web.Request) -> audit.AuditFilter:
    q = request.query
    return audit.AuditFilter(
        action=q.get("action", ""),
        actor_id=to_int(q.get("actor"), 0) or None,
        order_number=q.get("order", "").strip()[:32],
        date_from=to_date(q.get("from", ""), "from"),
        date_to=to_date(q.get("to", ""), "to"),
    )


@routes.get("/h5/admin/audit", name="audit_log")
@h5_page
async def audit_page(request: web.Request) -> web.Response:
    staff = _admin(request)
    error = None
    try:
        f = _filter(request)
        entries = await audit.audit_entries(staff, f)
    except WorkflowError as exc:
        f, entries, error = audit.AuditFilter(), [], exc.message
    unit = await OrgUnit.get(id=staff.org_unit_id)
    people = await Staff.filter(org_unit__path__startswith=unit.path).order_by("name")
    return render(
        request,
        "audit.html",
        entries=entries,
        describe=audit.describe,
        f=f,
        error=error,
        actions=list(AuditAction),
        people=people,
        query=request.query_string,
    )


@routes.get("/h5/admin/audit.csv", name="audit_export")
@h5_page
async def audit_export(request: web.Request) -> web.Response:
    staff = _admin(request)
    try:
        f = _filter(request)
        entries = await audit.audit_entries(staff, f, limit=50_000)
    except WorkflowError as exc:
        return render(request, "message.html", title="导出失败", message=exc.message, status=400)
    text = await audit.audit_csv(entries)
    await audit.record(
        AuditAction.AUDIT_EXPORT,
        actor=staff,
        ip=request.remote or "",
        format="csv",
        rows=len(entries),
        filter=f.described(),
    )
    name = quote(f"审计日志-{local_today():%Y%m%d}.csv")
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@routes.get("/h5/admin/customers", name="customers")
@h5_page
async def customers_page(request: web.Request) -> web.Response:
    staff = _admin(request)
    q = request.query.get("q", "")[:64]
    return render(
        request,
        "customers.html",
        q=q,
        found=await find_customers(staff, q),
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:100],
    )


@routes.get("/h5/admin/customers/{id}/export.zip", name="customer_export")
@h5_page
async def customer_export(request: web.Request) -> web.Response:
    staff = _admin(request)
    name, data = await export_customer(
        actor=staff, customer_id=to_int(request.match_info["id"], -1), ip=request.remote or ""
    )
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"},
    )


@routes.post("/h5/admin/customers/{id}/erase", name="customer_erase")
@h5_page
async def customer_erase(request: web.Request) -> web.Response:
    staff = _admin(request)
    fields, _ = await read_form(request)
    check_csrf(request, staff, one(fields, "csrf"))
    if one(fields, "confirm") != "删除":
        return render(
            request, "message.html", title="未删除", message="请在确认框中输入“删除”两个字后再提交。", status=400
        )
    count = await erase_customer(actor=staff, customer_id=to_int(request.match_info["id"], -1), ip=request.remote or "")
    raise web.HTTPFound(f"/h5/admin/customers?done={quote(f'已删除客户个人信息（{count} 个订单已匿名保留）')}")
