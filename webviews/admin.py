"""Admins' pages (管理后台): the index; staff and their roles, units and standing; org units; alert
thresholds; personal data: the audit log (filters, CSV) and a customer's rights under PIPL (export
everything held about them, erase it)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from infra.runtime import runtime
from infra.timeutil import local_today
from models import AuditAction, OrgUnit, Role, Staff, StockLevel, UnitKind
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.forms import Fields, Files, form_page, one, read_form, to_date, to_int
from webviews.render import render
from workflow import admin as admin_rules
from workflow import alerts, audit, stock
from workflow import directory as directory_sync
from workflow.directory import held_work
from workflow.errors import Invalid, NotAllowed, WorkflowError
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


# The admin's pages (管理后台): the index, staff and roles, org units, alert thresholds. The catalogue and
# price lists are webviews/catalog.py, service tokens webviews/tokens.py. Every form is form_page's: CSRF
# checked, a refusal shown on the page with its 4xx and nothing changed.


async def _as_admin(request: web.Request) -> Staff:
    return _admin(request)


def _ip(request: web.Request) -> str:
    return request.remote or ""


async def _index_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    unit = await OrgUnit.get(id=staff.org_unit_id)
    return render(
        request,
        "admin_index.html",
        status=status,
        staff_count=await Staff.filter(active=True, org_unit__path__startswith=unit.path).count(),
        unit_count=await OrgUnit.filter(active=True, path__startswith=unit.path).count(),
        directory=runtime().config.directory,
        last_sync=await directory_sync.last_sync(),
        csrf=csrf_token(staff),
        error=error,
        notice=request.query.get("done", "")[:80],
    )


async def _index_action(staff: Staff, _: Staff, form: Fields, files: Files) -> str:
    """同步通讯录: a full directory sync now, run by a worker like the scheduled one."""
    await directory_sync.request_sync(actor=staff)
    return "/h5/admin?done=已安排同步，稍后刷新查看"


form_page(routes, "/h5/admin", _index_page, _index_action, _as_admin)


async def _units_for(staff: Staff) -> list[OrgUnit]:
    """The units in the admin's part of the company, in tree order (a path sorts its subtree after it)."""
    mine = await OrgUnit.get(id=staff.org_unit_id)
    units = await OrgUnit.filter(path__startswith=mine.path)
    return sorted(units, key=lambda u: [int(p) for p in u.path.strip("/").split("/")])


def _depth(unit: OrgUnit) -> int:
    return unit.path.strip("/").count("/")


# Staff and roles


@routes.get("/h5/admin/staff", name="admin_staff")
@h5_page
async def staff_list(request: web.Request) -> web.Response:
    staff = _admin(request)
    mine = await OrgUnit.get(id=staff.org_unit_id)
    members = (
        await Staff.filter(org_unit__path__startswith=mine.path)
        .order_by("-active", "name")
        .prefetch_related("org_unit")
    )
    return render(request, "admin_staff.html", members=members, notice=request.query.get("done", "")[:80])


async def _member(request: web.Request) -> Staff:
    return await admin_rules.staff_of(_admin(request), to_int(request.match_info["id"], -1))


async def _member_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    member = await _member(request)
    return render(
        request,
        "admin_member.html",
        status=status,
        member=member,
        unit=await OrgUnit.get(id=member.org_unit_id),
        units=[u for u in await _units_for(staff) if u.active],
        depth=_depth,
        roles=list(Role),
        held_work=await held_work(member),
        error=error,
        field=field,
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:80],
    )


async def _member_action(staff: Staff, member: Staff, form: Fields, files: Files) -> str:
    action, ip = one(form, "action"), ""  # form_page's actions see the form, not the request
    here = f"/h5/admin/staff/{member.id}"
    if action == "roles":
        await admin_rules.set_roles(actor=staff, staff_id=member.id, roles=form.get("role", []), ip=ip)
        return f"{here}?done=角色已保存"
    if action == "unit":
        await admin_rules.move_staff(actor=staff, staff_id=member.id, unit_id=to_int(one(form, "unit"), -1), ip=ip)
        return f"{here}?done=所属组织已保存"
    if action in ("deactivate", "reactivate"):
        _, returned = await admin_rules.set_staff_active(
            actor=staff, staff_id=member.id, active=action == "reactivate", ip=ip
        )
        done = "已启用" if action == "reactivate" else f"已停用，{returned} 项未完成的工作已退回"
        return f"{here}?done={done}"
    raise Invalid("没有这个操作")


form_page(routes, "/h5/admin/staff/{id}", _member_page, _member_action, _member)


# Org units


async def _units_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    units = await _units_for(staff)
    people = dict.fromkeys((u.id for u in units), 0)
    for unit_id in await Staff.filter(active=True, org_unit_id__in=list(people)).values_list("org_unit_id", flat=True):
        people[unit_id] += 1  # type: ignore[index]
    return render(
        request,
        "admin_units.html",
        status=status,
        units=units,
        depth=_depth,
        people=people,
        kinds=list(UnitKind),
        error=error,
        field=field,
        form=form or {},
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:80],
    )


async def _units_action(staff: Staff, _: Staff, form: Fields, files: Files) -> str:
    action, unit_id = one(form, "action"), to_int(one(form, "unit"), -1)
    if action == "create":
        unit = await admin_rules.create_unit(
            actor=staff, name=one(form, "name"), parent_id=to_int(one(form, "parent"), -1)
        )
        return f"/h5/admin/units?done=已新建 {unit.name}"
    if action == "rename":
        unit = await admin_rules.rename_unit(actor=staff, unit_id=unit_id, name=one(form, "name"))
        return f"/h5/admin/units?done=已改名为 {unit.name}"
    if action == "move":
        unit = await admin_rules.move_unit(actor=staff, unit_id=unit_id, parent_id=to_int(one(form, "parent"), -1))
        return f"/h5/admin/units?done=已移动 {unit.name}"
    if action in ("deactivate", "reactivate"):
        unit = await admin_rules.set_unit_active(actor=staff, unit_id=unit_id, active=action == "reactivate")
        return f"/h5/admin/units?done={'已启用' if unit.active else '已停用'} {unit.name}"
    if action == "kind":
        unit = await admin_rules.set_unit_kind(actor=staff, unit_id=unit_id, kind=one(form, "kind"))
        return f"/h5/admin/units?done={unit.name} 现为{unit.kind.label}"
    raise Invalid("没有这个操作")


form_page(routes, "/h5/admin/units", _units_page, _units_action, _as_admin)


# Alert rules and their thresholds


async def _alerts_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    return render(
        request,
        "admin_alerts.html",
        status=status,
        rules=await alerts.thresholds(),
        error=error,
        field=field,
        form=form or {},
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:80],
        enabled=runtime().config.alerts.enabled,
    )


async def _alerts_action(staff: Staff, _: Staff, form: Fields, files: Files) -> str:
    """Every threshold on the form, checked first: one wrong value and none is saved."""
    current = {rule.key: value for rule, value, _ in await alerts.thresholds()}
    typed = {key: one(form, key) for key in current if key in form}
    for key, value in typed.items():
        text = value.strip()
        if not text.isdigit() or int(text) > alerts.MAX_THRESHOLD:
            rule = next(r for r, _, _ in await alerts.thresholds() if r.key == key)
            raise Invalid(f"“{rule.title}”的阈值应为 0 到 {alerts.MAX_THRESHOLD} 的整数（0 表示关闭）", key)
    changed = []
    for key, value in typed.items():
        if int(value.strip()) != current[key]:
            rule = (await alerts.set_threshold(actor=staff, rule_key=key, value=value))[0]
            changed.append(rule.title)
    return f"/h5/admin/alerts?done={'已保存：' + '、'.join(changed) if changed else '没有改动'}"


form_page(routes, "/h5/admin/alerts", _alerts_page, _alerts_action, _as_admin)


# Warehouses (workflow/stock.py): added in a part of the company, closed and opened again, never deleted.


async def _warehouses_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    units = [u for u in await _units_for(staff) if u.active]
    warehouses = await stock.kept_warehouses(staff)
    levels: dict[int, int] = {}
    for warehouse_id in await StockLevel.all().values_list("warehouse_id", flat=True):
        levels[warehouse_id] = levels.get(warehouse_id, 0) + 1  # type: ignore[index,call-overload]
    return render(
        request,
        "admin_warehouses.html",
        status=status,
        warehouses=warehouses,
        levels=levels,
        units=units,
        depth=_depth,
        error=error,
        field=field,
        form=form or {},
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:80],
    )


async def _warehouses_action(staff: Staff, _: Staff, form: Fields, files: Files) -> str:
    action = one(form, "action")
    if action == "add":
        added = await stock.add_warehouse(actor=staff, name=one(form, "name"), unit_id=to_int(one(form, "unit"), -1))
        return f"/h5/admin/warehouses?done=已添加 {added.name}"
    if action in ("close", "open"):
        changed = await stock.set_warehouse_active(
            actor=staff, warehouse_id=to_int(one(form, "warehouse"), -1), active=action == "open"
        )
        return f"/h5/admin/warehouses?done={'已启用' if changed.active else '已停用'} {changed.name}"
    raise Invalid("没有这个操作")


form_page(routes, "/h5/admin/warehouses", _warehouses_page, _warehouses_action, _as_admin)
