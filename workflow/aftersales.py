"""After-sales (售后): the visit call, scores for sales, measurer and installer, maintenance reminders."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.timeutil import utcnow
from models import Job, Order, OrderItem, Product, Staff, Task, TaskKind, TaskState, Visit
from models.enums import OPEN_TASK_STATES
from workflow import notify
from workflow.errors import Conflict, Invalid
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER

SCORED = ("sales", "measurer", "installer")
SCORED_LABELS = {"sales": "销售", "measurer": "测量", "installer": "安装"}
MAINTENANCE = "maintenance_reminder"


@dataclass(frozen=True)
class Score:
    value: int | None
    comment: str = ""


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def people_of(order: Order) -> dict[str, Staff | None]:
    """Who to score: the salesperson, and whoever did the last measuring and installing."""
    measure = (
        await Task.filter(order_id=order.id, kind=TaskKind.MEASURE, state=TaskState.DONE, superseded=False)
        .order_by("-id")
        .first()
    )
    install = await Task.filter(order_id=order.id, kind=TaskKind.INSTALL, state=TaskState.DONE).order_by("-id").first()
    return {
        "sales": await Staff.get(id=order.sales_id),
        "measurer": await Staff.get_or_none(id=measure.assignee_id) if measure and measure.assignee_id else None,
        "installer": await Staff.get_or_none(id=install.assignee_id) if install and install.assignee_id else None,
    }


async def record_visit(
    *, actor: Staff, order: Order, reached: bool, notes: str = "", scores: dict[str, Score] | None = None
) -> Visit:
    step = ORDER["visit" if reached else "visit_unreached"]
    await ORDER.check(step, actor, order)
    scores = scores or {}
    if reached:
        errors = {}
        for role in SCORED:
            score = scores.get(role)
            if score is None or score.value is None:
                errors[f"score_{role}"] = f"请为{SCORED_LABELS[role]}打分（1 到 5 分）"
            elif not 1 <= score.value <= 5:
                errors[f"score_{role}"] = f"{SCORED_LABELS[role]}评分应在 1 到 5 分之间"
        if errors:
            raise Invalid.several(errors)
    people = await people_of(order)
    task = await Task.filter(order_id=order.id, kind=TaskKind.VISIT, state__in=list(OPEN_TASK_STATES)).first()
    async with in_transaction():
        values: dict[str, Any] = {}
        for role in SCORED:
            score = scores.get(role)
            if score is not None:
                values[f"score_{role}"] = score.value if reached else None
                values[f"comment_{role}"] = score.comment.strip()[:255]
        visit = Visit(order=order, task=task, caller=actor, reached=reached, notes=notes.strip()[:2000], **values)
        await visit.save()
        if not reached:
            await apply(step, actor=actor, order=order, event={"result": "未接通", "notes": visit.notes})
            # Not reached by phone: the salesperson may send the visit's message to the customer's WeChat.
            await notify.customer_milestone(order, "visit")
            return visit
        result = "，".join(f"{SCORED_LABELS[r]} {scores[r].value} 分" for r in SCORED)
        try:
            await apply(step, actor=actor, order=order, event={"result": result, "notes": visit.notes})
        except Conflict:
            raise Conflict("这个订单刚被别人回访过") from None
        if task is not None:
            await Task.filter(id=task.id).update(state=TaskState.DONE, done_at=utcnow())
        for person in {p.id: p for p in people.values() if p is not None}.values():
            await _update_score(person)
        await _alert_low_scores(order, scores, people)
        # Scheduled at install already (finish_install); an order installed before that gets it here. The
        # job's key is per order, series and cycle: never twice.
        await schedule_maintenance(order, since=order.installed_at or utcnow())
    return visit


async def _update_score(person: Staff) -> None:
    """A person's score is the mean of every visit score given for the work they did, in any role."""
    sold = Order.filter(sales_id=person.id).values_list("id", flat=True)
    measured = Task.filter(assignee_id=person.id, kind=TaskKind.MEASURE, state=TaskState.DONE, superseded=False)
    installed = Task.filter(assignee_id=person.id, kind=TaskKind.INSTALL, state=TaskState.DONE)
    values: list[int] = []
    for field, ids in (
        ("score_sales", await sold),
        ("score_measurer", await measured.values_list("order_id", flat=True)),
        ("score_installer", await installed.values_list("order_id", flat=True)),
    ):
        if ids:
            scores = await Visit.filter(order_id__in=list(ids), reached=True).values_list(field, flat=True)
            values += [cast(int, v) for v in scores if v is not None]
    if values:
        await Staff.filter(id=person.id).update(score=round(sum(values) / len(values), 2))


async def _alert_low_scores(order: Order, scores: dict[str, Score], people: dict[str, Staff | None]) -> None:
    from workflow.alerts import LOW_SCORE, raise_alert

    threshold = runtime().config.alerts.low_score
    low = [r for r in SCORED if scores[r].value is not None and scores[r].value <= threshold]  # type: ignore[operator]
    if not low:
        return
    lines = []
    for role in low:
        person = people[role]
        who = person.name if person else "—"
        comment = f"：{scores[role].comment}" if scores[role].comment else ""
        lines.append(f"{SCORED_LABELS[role]} {who} {scores[role].value} 分{comment}")
    await raise_alert(order, LOW_SCORE, "\n".join(lines))
    # The managers are alerted, and after-sales gets a complaint (投诉) ticket to follow it up.
    from workflow.tickets import open_for_low_score

    await open_for_low_score(order, "；".join(lines))


async def schedule_maintenance(order: Order, *, since: datetime) -> list[Job]:
    """One reminder row per product series of the order, at that series' cycle (6 or 12 months) from `since`
    (the installation). Idempotent: the first cycle's key is per order and series."""
    product_ids = await OrderItem.filter(order_id=order.id, product_id__isnull=False).values_list(
        "product_id", flat=True
    )
    cycles: dict[str, int] = {}
    for series, months in await Product.filter(id__in=list(product_ids)).values_list("series", "maintenance_months"):
        if months and int(months) > 0:
            cycles[str(series)] = min(cycles.get(str(series), 10**6), int(months))
    jobs = []
    for series, months in sorted(cycles.items()):
        job, _ = await Job.get_or_create(
            key=f"{MAINTENANCE}:{order.id}:{series}:1",
            defaults={
                "kind": MAINTENANCE,
                "due_at": add_months(since, months),
                "payload": {"order_id": order.id, "series": series, "months": months, "cycle": 1},
            },
        )
        jobs.append(job)
    return jobs


MAINTENANCE_BACKFILL = "maintenance_backfill"


async def backfill_maintenance(payload: dict[str, Any] | None = None) -> int:
    """Once, for databases from before maintenance was scheduled at install: every installed order without
    a maintenance reminder gets its cycle from its installation date (a reminder already past due comes at
    once). How many orders were scheduled."""
    scheduled = 0
    orders = Order.filter(installed_at__isnull=False).exclude(state="cancelled").order_by("id")
    async for order in orders:
        if await Job.filter(kind=MAINTENANCE, key__startswith=f"{MAINTENANCE}:{order.id}:").exists():
            continue
        if await schedule_maintenance(order, since=cast(datetime, order.installed_at)):
            scheduled += 1
    return scheduled
