"""Cards of a field job (measuring or installing): ready for dispatch, the worker's task, booked."""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import CardKind, CardRef, DispatchKey, TaskAnswerKey
from cards.views import OrderView, TaskView
from infra.runtime import Links
from models.flows import TaskFlow


def day_label(d: date | None) -> str:
    return d.strftime("%m月%d日") if d else "未定"


def dispatch_card(
    dispatchers: list[str],
    flow: TaskFlow,
    order: OrderView,
    *,
    suggestion: tuple[int, str, date] | None,
    links: Links,
    reason: str = "",
    note: str = "",
) -> dict[str, Any]:
    """To the dispatchers: an order waiting for a worker (new, arrived, declined or re-opened)."""
    buttons = []
    if suggestion is not None:
        worker_id, name, day = suggestion
        key = DispatchKey(kind=flow.kind.value, order_id=order.id, worker_id=worker_id, date=day.isoformat())
        buttons.append(callback_button(f"派给{name}·{day_label(day)}", key.pack()))
    page = links.oauth(f"/h5/orders/{order.number}/dispatch/{flow.kind.value}")
    buttons.append(url_button(f"选择{flow.worker_role.label}员/改日期".replace("安装员", "安装师傅"), page))
    first_row = (
        row("期望测量", day_label(order.expected_measure_date))
        if flow.kind.value == "measure"
        else row("预计安装", day_label(order.expected_install_date))
        if order.expected_install_date
        else row("状态", "货已到齐")
    )
    return button_card(
        dispatchers,
        task_id=CardRef(CardKind.ready(flow.kind), order.id).new_task_id(),
        title=reason or flow.ready_title,
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[
            first_row,
            row("地址", order.address),
            row("电话", order.phone_masked),
            row("产品", order.items_text),
            row("销售", order.sales_name),
        ],
        buttons=buttons,
        url=page,
        quote=note or None,
    )


def task_card(worker: str, flow: TaskFlow, task: TaskView, *, links: Links, title: str = "") -> dict[str, Any]:
    order = task.order
    return button_card(
        worker,
        task_id=CardRef(CardKind.task(flow.kind), task.id).new_task_id(),
        title=title or flow.task_title,
        desc=f"订单 {order.number} · {day_label(task.scheduled_date)}上门",
        rows=[
            row("客户", order.customer_name),
            row("电话", order.phone_masked),
            row("地址", order.address),
            row("产品", order.items_text),
        ],
        buttons=[
            callback_button("接单", TaskAnswerKey(task_id=task.id, accept=1).pack(), style=1),
            callback_button("拒单", TaskAnswerKey(task_id=task.id, accept=0).pack(), style=2),
        ],
        url=links.oauth(f"/h5/orders/{order.number}"),
        quote="上门前请再次与客户确认时间",
    )


def booked_card(
    to: str, flow: TaskFlow, order: OrderView, *, worker_name: str, day: date, links: Links
) -> dict[str, Any]:
    return text_notice(
        to,
        task_id=CardRef(CardKind.booked(flow.kind), order.id).new_task_id(),
        title=flow.booked_title,
        desc=f"订单 {order.number} · {order.customer_name}",
        emphasis=(day_label(day), f"{flow.worker_role.label} {worker_name}"),
        rows=[row("地址", order.address)],
        url=links.oauth(f"/h5/orders/{order.number}"),
    )


def notice_card(
    to: str | list[str], order: OrderView, *, title: str, text: str, links: Links, kind: CardKind
) -> dict[str, Any]:
    """A short notice about an order (cancelled, rescheduled, reassigned, ...), linking to it."""
    return text_notice(
        to,
        task_id=CardRef(kind, order.id).new_task_id(),
        title=title,
        desc=f"订单 {order.number} · {order.customer_name}",
        quote=text,
        url=links.oauth(f"/h5/orders/{order.number}"),
    )
