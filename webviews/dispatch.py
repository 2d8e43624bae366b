"""Dispatch pages (派测量, 派安装) and the task changes: reschedule, reassign, transfer."""

from __future__ import annotations

from aiohttp import web

from infra.timeutil import local_today
from models import Order, Staff, Task, TaskKind
from models.enums import OPEN_TASK_STATES
from models.flows import FLOWS, MEASURE
from webviews.auth import api_staff, csrf_token
from webviews.forms import Fields, Files, form_page, one, order_or_404, to_date, to_int
from webviews.render import render
from workflow.errors import Conflict, Invalid, NotAllowed
from workflow.order_lifecycle import ORDER, job
from workflow.privacy import may_call
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
        can_call=await may_call(staff, order),
    )


async def _dispatch_page(
    request: web.Request, *, error: str | None = None, status: int = 200, **_: object
) -> web.Response:
    return await _dispatch_form(request, error=error, status=status)


async def _job_of(request: web.Request) -> tuple[Order, TaskKind]:
    return await order_or_404(request), _kind(request)


async def _dispatch(staff: Staff, subject: tuple[Order, TaskKind], form: Fields, files: Files) -> str:
    order, kind = subject
    day = to_date(one(form, "date"), "date")
    if day is None:
        raise Invalid("请选择日期", "date")
    worker_id = to_int(one(form, "worker_id"), -1)
    if worker_id < 0:
        raise Invalid("请选择人员", "worker")
    await dispatch_task(actor=staff, order=order, kind=kind, worker_id=worker_id, day=day)
    return f"/h5/orders/{order.number}?done=dispatched-{kind.value}"


form_page(routes, "/h5/orders/{number}/dispatch/{kind}", _dispatch_page, _dispatch, _job_of)


async def open_tasks_of(order_id: int) -> list[Task]:
    return await Task.filter(order_id=order_id, state__in=list(OPEN_TASK_STATES)).prefetch_related("assignee")
