"""Dispatch pages (派测量, 派安装) and the task changes: reschedule, reassign, transfer."""

from __future__ import annotations

from aiohttp import web

from infra.timeutil import local_today
from models import Task, TaskKind
from models.enums import OPEN_TASK_STATES
from models.flows import FLOWS, MEASURE
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.forms import one, order_or_404, read_form, to_date, to_int
from webviews.render import render
from workflow.errors import Conflict, Invalid, NotAllowed, WorkflowError
from workflow.order_lifecycle import ORDER, job
from workflow.selectors import order_view
from workflow.tasks import dispatch_task, rank_workers

routes = web.RouteTableDef()


def _kind(request: web.Request) -> TaskKind:
    try:
        kind = TaskKind(request.match_info.get("kind", "measure"))
    except ValueError:
        raise web.HTTPNotFound(text="页面不存在") from None
    if kind not in FLOWS:
        raise web.HTTPNotFound(text="页面不存在")
    return kind


async def _dispatch_form(request: web.Request, *, error: str | None, status: int = 200) -> web.Response:
    staff = api_staff(request)
    order = await order_or_404(request)
    flow = FLOWS[_kind(request)]
    try:
        await ORDER.check(job(flow.kind, "dispatch"), staff, order)
        ready = True
    except NotAllowed as refused:
        return render(request, "message.html", title="无法派单", message=refused.message, status=403)
    except Conflict:
        ready = False  # dispatched already (the page says by whom) or moved on
    try:
        day = to_date(request.query.get("date", ""), "date")
    except Invalid:
        day = None
    wanted = order.expected_measure_date if flow is MEASURE else None
    day = day or max(wanted or local_today(), local_today())
    return render(
        request,
        "dispatch.html",
        status=status,
        order=order,
        view=await order_view(order, with_timeline=True),
        flow=flow,
        day=day,
        ranked=await rank_workers(flow, dispatcher=staff, day=day),
        error=error,
        csrf=csrf_token(staff),
        today=local_today().isoformat(),
        ready=ready,
    )


@routes.get("/h5/orders/{number}/dispatch/{kind}", name="order_dispatch")
@h5_page
async def dispatch_page(request: web.Request) -> web.Response:
    return await _dispatch_form(request, error=None)


@routes.post("/h5/orders/{number}/dispatch/{kind}")
@h5_page
async def dispatch_submit(request: web.Request) -> web.Response:
    staff = api_staff(request)
    order = await order_or_404(request)
    kind = _kind(request)
    form, _ = await read_form(request)
    check_csrf(request, staff, one(form, "csrf"))
    try:
        day = to_date(one(form, "date"), "date")
        if day is None:
            raise Invalid("请选择日期", "date")
        worker_id = to_int(one(form, "worker_id"), -1)
        if worker_id < 0:
            raise Invalid("请选择人员", "worker")
        await dispatch_task(actor=staff, order=order, kind=kind, worker_id=worker_id, day=day)
    except WorkflowError as exc:
        return await _dispatch_form(request, error=exc.message, status=409 if isinstance(exc, Conflict) else 400)
    raise web.HTTPFound(f"/h5/orders/{order.number}")


async def open_tasks_of(order_id: int) -> list[Task]:
    return await Task.filter(order_id=order_id, state__in=list(OPEN_TASK_STATES)).prefetch_related("assignee")
