"""Cards for reminders, alerts and the managers' numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cards.common import button_card, callback_button, clip, map_url, row, text_notice
from cards.keys import AlertHandledKey, CardKind, CardRef
from cards.orders import QUEUE_PAGE
from cards.tasks import day_label
from cards.views import STAGES, Money, OrderView, QueueItem, SeriesLine, Stats, TaskView
from infra.runtime import Links


def appointment_reminder_card(to: str, task: TaskView, *, links: Links) -> dict[str, Any]:
    order = task.order
    return text_notice(
        to,
        task_id=CardRef(CardKind.REMIND, task.id).new_task_id(),
        title=f"明天{task.kind_label}提醒",
        desc=f"订单 {order.number} · {day_label(task.scheduled_date)}",
        rows=[
            row("客户", order.customer_name),
            row("电话", order.phone_masked),
            row("地址", order.address),
            row("产品", order.items_text),
        ],
        quote="出发前请再次与客户确认时间",
        url=links.oauth(f"/h5/orders/{order.number}"),
    )


def morning_card(to: str, staff_id: int, items: list[QueueItem], *, links: Links) -> dict[str, Any]:
    """A field worker's visits today, in their queue's order: address, masked phone, a map link each."""
    lines = [f"{i.job} {i.number} {clip(i.customer_name, 12)} {i.phone_masked}\n{clip(i.address, 90)}" for i in items]
    return text_notice(
        to,
        task_id=CardRef(CardKind.MORNING, staff_id).new_task_id(),
        title=f"今天上门 {len(items)} 户",
        desc=f"{day_label(items[0].appointment)} · 出发前请与客户确认时间",
        quote="\n".join(lines),
        url=links.oauth(QUEUE_PAGE),
        jumps=[(f"导航：{i.customer_name} {clip(i.address, 24)}", map_url(i.address)) for i in items[:3]],
    )


def accept_nudge_card(to: str, task: TaskView, *, hours: float, links: Links) -> dict[str, Any]:
    order = task.order
    return text_notice(
        to,
        task_id=CardRef(CardKind.NUDGE, task.id).new_task_id(),
        title=f"请尽快接单：{task.kind_label}",
        desc=f"订单 {order.number} · {day_label(task.scheduled_date)}",
        quote=f"任务已派出 {hours:g} 小时仍未接单：点开“我的待办”即可接单，或在任务卡片上点“接单”或“拒单”",
        url=links.oauth(QUEUE_PAGE),
    )


def accept_escalation_card(to: str, task: TaskView, *, worker: str, hours: float, links: Links) -> dict[str, Any]:
    order = task.order
    return text_notice(
        to,
        task_id=CardRef(CardKind.ESCALATE, task.id).new_task_id(),
        title=f"{worker} 未接{task.kind_label}任务",
        desc=f"订单 {order.number} · {day_label(task.scheduled_date)}",
        quote=f"已派出 {hours:g} 小时未接单，建议联系 {worker} 或改派",
        url=links.oauth(f"/h5/orders/{order.number}/changes"),
    )


def alert_card(
    to: list[str], order: OrderView, *, alert_id: int, title: str, detail: str, todo: str, links: Links
) -> dict[str, Any]:
    return button_card(
        to,
        task_id=CardRef(CardKind.ALERT, alert_id).new_task_id(),
        title=f"预警：{title}",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("状态", order.state_label), row("销售", order.sales_name)],
        quote=f"{detail}\n建议：{todo}",
        buttons=[callback_button("已处理", AlertHandledKey(alert_id=alert_id).pack())],
        url=links.oauth(f"/h5/orders/{order.number}"),
    )


@dataclass(frozen=True)
class StatsLines:
    title: str
    lines: list[str]


def stats_markdown(to: str, title: str, sections: list[StatsLines]) -> dict[str, Any]:
    parts = [f"## {title}"]
    for section in sections:
        parts.append(f"**{section.title}**")
        parts.extend(f"> {line}" for line in section.lines)
    content = "\n".join(parts)
    return {"touser": to, "msgtype": "markdown", "markdown": {"content": clip_markdown(content)}}


def clip_markdown(content: str, limit: int = 2048) -> str:
    # Cut at a line, never inside one, to stay within WeCom's 2048 bytes.
    if len(content.encode()) <= limit:
        return content
    out: list[str] = []
    size = 0
    for line in content.split("\n"):
        cost = len(line.encode()) + 1
        if size + cost > limit - 8:
            out.append("> …")
            break
        out.append(line)
        size += cost
    return "\n".join(out)


def image_message(to: str, sha256: str) -> dict[str, Any]:
    """An image Relay stored: the outbox uploads it (media/upload) when it sends."""
    return {"touser": to, "msgtype": "image", "image": {"relay_file": sha256}}


def stats_message(to: str, stats: Stats) -> dict[str, Any]:
    """The numbers as a short markdown card (WeCom markdown: headings, bold, quotes)."""
    counts = " · ".join(f"{label} {stats.total.counts.get(key, 0)}" for key, _, label in STAGES)
    sections = [StatsLines("订单进度", [counts])]
    if stats.by_unit:
        lines = [f"{u.name}：" + " / ".join(str(f.counts.get(k, 0)) for k, _, _ in STAGES) for u, f in stats.by_unit]
        sections.append(StatsLines("分组织", [*at_most(lines, UNITS_SHOWN), "（新建 / 测量 / 设计 / 入库 / 安装）"]))
    if stats.total.money is not None:
        sections += money_sections(stats)
    waiting = [f"{state.label} {n}" for state, n in stats.waiting.items() if n]
    sections.append(StatsLines("当前各环节待办", [" · ".join(waiting) or "无"]))
    days = [f"{label} {value} 天" for label, value in stats.avg_days.items() if value is not None]
    sections.append(StatsLines("平均用时", [" · ".join(days) or "本期暂无数据"]))
    roles = {"sales": "销售", "measurer": "测量", "installer": "安装"}
    scores = [f"{roles[r]} {v:.1f}" for r, v in stats.scores.items() if v is not None]
    lines = [" · ".join(scores) or "本期暂无回访评分"]
    if stats.lowest:
        below = "、".join(f"{name} {score:.1f}（{n} 次评分）" for name, score, n in stats.lowest)
        lines.append(f"低于本期平均：{below}")
    sections.append(StatsLines("客户评分", lines))
    if stats.lead_stores or stats.lead_people:
        # 成单率 = 成交 / (成交 + 到店未成交), of the bookings decided in the period.
        conversion = [c.line for c in stats.lead_stores] + [c.line for c in stats.lead_people]
        sections.append(StatsLines("预约转化（成单率 = 成交 / 已有结果）", at_most(conversion, UNITS_SHOWN)))
    return stats_markdown(to, f"{stats.unit.name} · {stats.period.label}", sections)


# A card names this many units at most (a region has twenty stores): one message holds 2048 bytes, and the
# dashboard lists them all.
UNITS_SHOWN = 8


def at_most(lines: list[str], shown: int) -> list[str]:
    if len(lines) <= shown:
        return lines
    return [*lines[:shown], f"另 {len(lines) - shown} 个组织见数据看板"]


def yuan(amount: Decimal) -> str:
    """A card's money: 万元 from ten thousand up (two decimals), else 元; thousands separated."""
    if abs(amount) >= 10_000:
        return f"{amount / 10_000:,.2f} 万元"
    return f"{amount:,.2f} 元"


def percent(share: Decimal) -> str:
    return f"{share * 100:.1f}%"


def money_lines(money: Money) -> list[str]:
    discount = money.avg_discount
    contract = f"签约 {yuan(money.contract)}（{money.contract_orders} 单）"
    if discount is not None:
        contract += f" · 平均优惠 {percent(discount)}"
    collected = f"回款 {yuan(money.collected)}（已确认 {yuan(money.collected_confirmed)}"
    collected += f"，待确认 {yuan(money.collected_pending)}）" if money.collected_pending else "，无待确认）"
    owed = f"未收清 {yuan(money.outstanding)}（{money.outstanding_orders} 单，截至现在）"
    return [contract, collected, owed]


def wan(amount: Decimal) -> str:
    return f"{amount / 10_000:,.2f}"


def money_sections(stats: Stats, *, units_shown: int = UNITS_SHOWN, series_shown: int = 5) -> list[StatsLines]:
    """Short: the scope's money; the units' (the largest contracts first, at most units_shown) in 万元; the
    top series. The dashboard has all of it."""
    money = stats.total.money
    assert money is not None
    sections = [StatsLines("金额", money_lines(money))]
    units = sorted(
        ((u, f.money) for u, f in stats.by_unit if f.money is not None), key=lambda um: (-um[1].contract, um[0].name)
    )
    if units:
        lines = [f"{u.name}：{wan(m.contract)} / {wan(m.collected)} / {wan(m.outstanding)}" for u, m in units]
        sections.append(StatsLines("分组织金额", [*at_most(lines, units_shown), "（万元：签约 / 回款 / 未收清）"]))
    if stats.series:
        sections.append(StatsLines("按产品系列（明细金额）", [series_line(s) for s in stats.series[:series_shown]]))
    return sections


def series_line(line: SeriesLine) -> str:
    return f"{line.series} {yuan(line.amount)} · {percent(line.share)} · {line.quantity} 件"


@dataclass(frozen=True)
class AlertLine:
    order_number: str
    title: str  # the rule's title: 超时未派测量, ...


def alert_digest(to: str, alerts: list[AlertLine], *, url: str, limit: int = 2048) -> list[dict[str, Any]]:
    """Many new alerts for one manager as few markdown messages (each within WeCom's 2048 bytes) naming
    every one, grouped by rule: WeCom drops what a member gets beyond 30 messages a minute, so one card
    each would not all arrive."""
    groups: dict[str, list[str]] = {}
    for alert in alerts:
        groups.setdefault(alert.title, []).append(alert.order_number)
    lines: list[str] = []
    for title, numbers in groups.items():
        lines.append(f"**{title}**（{len(numbers)} 条）")
        line: list[str] = []
        for number in numbers:
            if line and len("、".join([*line, number]).encode()) > 400:
                lines.append("> " + "、".join(line))
                line = []
            line.append(number)
        lines.append("> " + "、".join(line))
    footer = f"[打开订单列表]({url})"

    def head(part: int, parts: int) -> str:
        page = f"（{part}/{parts}）" if parts > 1 else ""
        return f"## 预警汇总：{len(alerts)} 条新预警{page}"

    room = limit - len(head(99, 99).encode()) - len(footer.encode()) - 2
    chunks: list[list[str]] = [[]]
    size = 0
    for text in lines:
        cost = len(text.encode()) + 1
        if chunks[-1] and size + cost > room:
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += cost
    return [
        {
            "touser": to,
            "msgtype": "markdown",
            "markdown": {"content": "\n".join([head(i, len(chunks)), *chunk, footer])},
        }
        for i, chunk in enumerate(chunks, 1)
    ]
