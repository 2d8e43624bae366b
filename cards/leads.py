"""The consultant's card for a showroom booking (预约). Its buttons are the lead lifecycle's rows the
consultant may take now (workflow/lead_lifecycle.py), passed in: a row that needs a typed reason or a
colleague picked opens the lead's page (a WeCom template card has buttons and selects but no free-text
input: message/send, template_card button_interaction), and 已成交 opens the order form pre-filled from
the lead. The phone shows masked, as on every card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import CardKind, CardRef, LeadStepKey
from infra.runtime import Links


@dataclass(frozen=True)
class LeadView:
    id: int
    number: str
    name: str
    phone_masked: str
    store: str
    wanted: str  # 12-05 14:00, or ""
    need_level: str
    products: str
    source: str
    state_label: str


# Rows whose button opens a page instead of acting at once: the lead's page (a reason or a colleague),
# or the order form (已成交).
ON_PAGE = ("reject", "transfer", "void", "not_won", "reassign")
ORDER_FORM = "win"


def lead_path(number: str) -> str:
    return f"/h5/leads/{number}"


def order_form_path(number: str) -> str:
    return f"/h5/orders/new?lead={number}"


def lead_card(
    to: str, lead: LeadView, *, title: str, buttons: list[tuple[str, str]], links: Links, note: str = ""
) -> dict[str, Any]:
    page = links.oauth(lead_path(lead.number))
    rows = [
        row("预约号", lead.number),
        row("电话", lead.phone_masked),
        row("预约时间", lead.wanted),
        row("需求等级", lead.need_level),
        row("意向产品", lead.products),
        row("来源", lead.source),
    ]
    if not buttons:
        return text_notice(
            to,
            task_id=CardRef(CardKind.LEAD, lead.id).new_task_id(),
            title=title,
            desc=f"{lead.name} · {lead.store}",
            url=page,
            rows=rows,
            quote=note or None,
        )
    if len(buttons) > 6:
        # The steps done on the lead's page give way first; 更多操作 opens it.
        buttons = [b for b in buttons if b[0] not in ON_PAGE][:5]
        more = True
    else:
        more = False
    shown = []
    for name, label in buttons:
        if name == ORDER_FORM:
            shown.append(url_button(label, links.oauth("/h5/orders/new", lead=lead.number), style=1))
        elif name in ON_PAGE:
            shown.append(url_button(label, links.oauth(lead_path(lead.number), step=name), style=2))
        else:
            shown.append(callback_button(label, LeadStepKey(lead_id=lead.id, step=name).pack()))
    if more:
        shown.append(url_button("更多操作", page))
    return button_card(
        to,
        task_id=CardRef(CardKind.LEAD, lead.id).new_task_id(),
        title=title,
        desc=f"{lead.name} · {lead.store}",
        rows=rows,
        buttons=shown,
        url=page,
        quote=note or None,
    )


def leads_card(userid: str, staff_id: int, *, links: Links) -> dict[str, Any]:
    """预约 in chat: the leads page (the list, 登记预约)."""
    url = links.oauth("/h5/leads")
    return text_notice(
        userid,
        task_id=CardRef(CardKind.LEADS_LIST, staff_id).new_task_id(),
        title="预约",
        desc="登记预约、查看与处理预约",
        url=url,
        jumps=[("打开预约列表", url), ("登记预约", links.oauth("/h5/leads/new"))],
    )
