"""Cards of a service ticket (售后工单): to after-sales to book it, the installer's task and bench, done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import CardKind, CardRef, TicketAnswerKey, TicketDispatchKey, TicketFinishKey, TicketPhotosKey
from cards.tasks import day_label
from cards.views import OrderView
from infra.runtime import Links


@dataclass(frozen=True)
class TicketView:
    id: int
    number: str
    kind_label: str  # 维修 / 投诉 / 保养
    source_label: str
    state_label: str
    description: str
    deadline: str  # 12月05日 18:00
    order: OrderView
    scheduled_date: date | None = None
    assignee_name: str = ""

    @property
    def title(self) -> str:
        return f"{self.kind_label}工单 {self.number}"


def _page(links: Links, ticket: TicketView) -> str:
    return links.oauth(f"/h5/tickets/{ticket.id}")


def ticket_open_card(
    to: list[str],
    ticket: TicketView,
    *,
    suggestion: tuple[int, str, date] | None,
    links: Links,
    title: str = "",
    note: str = "",
) -> dict[str, Any]:
    """To after-sales of the order's unit: a ticket waiting to be booked, with the suggested installer."""
    buttons = []
    if suggestion is not None:
        worker_id, name, day = suggestion
        key = TicketDispatchKey(ticket_id=ticket.id, worker_id=worker_id, date=day.isoformat())
        buttons.append(callback_button(f"派给{name}·{day_label(day)}", key.pack()))
    buttons.append(url_button("选择师傅/改日期", _page(links, ticket)))
    order = ticket.order
    return button_card(
        to,
        task_id=CardRef(CardKind.TICKET, ticket.id).new_task_id(),
        title=title or f"新{ticket.kind_label}工单，待派单",
        desc=f"{ticket.number} · 订单 {order.number} · {order.customer_name}",
        rows=[
            row("来源", ticket.source_label),
            row("期限", ticket.deadline),
            row("地址", order.address),
            row("电话", order.phone_masked),
            row("产品", order.items_text),
        ],
        buttons=buttons,
        url=_page(links, ticket),
        quote=note or ticket.description or None,
    )


def ticket_task_card(worker: str, ticket: TicketView, *, links: Links) -> dict[str, Any]:
    order = ticket.order
    return button_card(
        worker,
        task_id=CardRef(CardKind.TICKET_TASK, ticket.id).new_task_id(),
        title=f"新{ticket.kind_label}任务",
        desc=f"{ticket.number} · {day_label(ticket.scheduled_date)}上门",
        rows=[
            row("客户", order.customer_name),
            row("电话", order.phone_masked),
            row("地址", order.address),
            row("产品", order.items_text),
            row("期限", ticket.deadline),
        ],
        buttons=[
            callback_button("接单", TicketAnswerKey(ticket_id=ticket.id, accept=1).pack(), style=1),
            callback_button("拒单", TicketAnswerKey(ticket_id=ticket.id, accept=0).pack(), style=2),
        ],
        url=_page(links, ticket),
        quote=ticket.description or None,
    )


def ticket_bench_card(worker: str, ticket: TicketView, *, links: Links, after_photos: int) -> dict[str, Any]:
    order = ticket.order
    need = f"，完成后至少发 {after_photos} 张维修后照片" if after_photos else ""
    return button_card(
        worker,
        task_id=CardRef(CardKind.TICKET_BENCH, ticket.id).new_task_id(),
        title=f"{ticket.kind_label}进行中",
        desc=f"{ticket.number} · 订单 {order.number} · {order.customer_name}",
        rows=[row("地址", order.address), row("日期", day_label(ticket.scheduled_date)), row("期限", ticket.deadline)],
        quote=f"上门后先在聊天里发送维修前照片{need}，然后点“完成”：随后会收到给客户确认的链接。",
        buttons=[
            callback_button("发维修前照片", TicketPhotosKey(ticket_id=ticket.id, after=0).pack(), style=2),
            callback_button("发维修后照片", TicketPhotosKey(ticket_id=ticket.id, after=1).pack(), style=2),
            callback_button("完成", TicketFinishKey(ticket_id=ticket.id).pack(), style=1),
        ],
        url=_page(links, ticket),
    )


def ticket_done_card(to: list[str], ticket: TicketView, *, confirm_url: str, links: Links) -> dict[str, Any]:
    """The installer and after-sales get the customer's link to forward: the customer confirms there."""
    return text_notice(
        to,
        task_id=CardRef(CardKind.TICKET_DONE, ticket.id).new_task_id(),
        title=f"{ticket.kind_label}已完成，请客户确认",
        desc=f"{ticket.number} · 订单 {ticket.order.number} · {ticket.order.customer_name}",
        quote="请把下面的链接发给客户（或当面请客户打开），客户在手机上确认或签字后工单关闭。",
        url=confirm_url,
        jumps=[("客户确认链接", confirm_url), ("工单详情", _page(links, ticket))],
    )


def ticket_notice_card(
    to: str | list[str], ticket: TicketView, *, title: str, text: str, links: Links
) -> dict[str, Any]:
    return text_notice(
        to,
        task_id=CardRef(CardKind.TICKET_NOTICE, ticket.id).new_task_id(),
        title=title,
        desc=f"{ticket.number} · 订单 {ticket.order.number} · {ticket.order.customer_name}",
        quote=text,
        url=_page(links, ticket),
    )


def ticket_form_card(to: str, order: OrderView, *, url: str) -> dict[str, Any]:
    """Answer to 报修 <订单号>: the form to fill the problem in (a card cannot take typed text)."""
    return text_notice(
        to,
        task_id=CardRef(CardKind.TICKET_NOTICE, order.id).new_task_id(),
        title="报修：填写问题",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("地址", order.address), row("产品", order.items_text)],
        quote="点开填写类型（维修 / 投诉 / 保养）、问题描述和照片，提交后售后会收到派单卡片。",
        url=url,
    )
