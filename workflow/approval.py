"""The price review (审核): a discount beyond money.discount_threshold, on a line or the whole order, or a
contract below money.contract_floor, waits for an approver before the order may go to production.

Who approves is a rule (money.approvers, e.g. "store,region"): the managers of the order's store, then
of its region, each level in turn. A level without a manager is skipped; when no level has one, the
managers of the top unit decide. Each level is an Approval row; approving one opens the next, the last
sets the order's approval_state to approved. 驳回 needs a reason (WeCom's template cards take no typed
text, so it is the review page's form), sets rejected and tells sales; the next price change submits
the new prices again.

The pricing code calls `review_prices` inside its own transaction whenever it sets or changes prices.
New prices that need no review clear a pending or rejected review (the prices it was about are gone);
an approved order stays approved (nothing beyond the limits is asked), with the change on its timeline.
A card-based review inside Relay, rather than WeCom's own approval app, keeps the order's state, its
guard on production and its history in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from cards.approval import ReviewFigures
from infra.runtime import runtime
from infra.timeutil import utcnow
from models import Approval, ApprovalState, EventKind, Order, OrderItem, OrgUnit, Role, Staff
from workflow import notify, timeline
from workflow.errors import Conflict, Invalid
from workflow.lifecycle import Transition, apply, waiting_approval
from workflow.order_lifecycle import ORDER, PRICES
from workflow.production import release_if_ready

# A level's name in money.approvers -> its depth in the org tree (company > region > store).
DEPTHS = {"company": 0, "region": 1, "store": 2}
LEVEL_LABELS = {"company": "公司", "region": "区域", "store": "门店", "top": "总部"}
AFTER_CONFIRMATION = "客户确认后修改价格"


def percent(share: Decimal) -> str:
    text = f"{(share * 100).quantize(Decimal('0.1')):f}"
    return text.rstrip("0").rstrip(".") + "%"


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _threshold() -> Decimal:
    return Decimal(str(runtime().config.money.discount_threshold))


def _floor() -> Decimal:
    return Decimal(str(runtime().config.money.contract_floor)).quantize(Decimal("0.01"))


def _line_discount(item: OrderItem) -> Decimal | None:
    if item.list_price is None or item.unit_price is None or item.list_price <= 0:
        return None  # an unpriced line
    return 1 - item.unit_price / item.list_price


def _order_discount(order: Order) -> Decimal | None:
    if order.list_amount is None or order.contract_amount is None or order.list_amount <= 0:
        return None
    return 1 - Decimal(order.contract_amount) / Decimal(order.list_amount)


def review_reasons(order: Order, items: Sequence[OrderItem]) -> list[str]:
    """Why these prices need a review, one sentence each; empty when they do not."""
    threshold, floor = _threshold(), _floor()
    reasons = []
    for n, item in enumerate(items, 1):
        discount = _line_discount(item)
        if discount is not None and discount > threshold:
            reasons.append(f"第 {n} 行折扣 {percent(discount)}（超过 {percent(threshold)}）")
    discount = _order_discount(order)
    if discount is not None and discount > threshold:
        reasons.append(f"整单折扣 {percent(discount)}（超过 {percent(threshold)}）")
    if floor > 0 and order.contract_amount is not None and order.contract_amount < floor:
        reasons.append(f"合同金额 {yuan(order.contract_amount)} 元低于底价 {yuan(floor)} 元")
    return reasons


def _figures(order: Order, items: Sequence[OrderItem], reasons: list[str]) -> dict[str, object]:
    """The snapshot an approver decides on: it stays with the level whatever happens to the prices."""
    discount = _order_discount(order)
    lines = []
    for n, item in enumerate(items, 1):
        if item.unit_price is None:
            continue
        line_discount = _line_discount(item)
        lines.append(
            {
                "n": n,
                "product": f"{item.series} {item.model}".strip(),
                "room": item.room,
                "quantity": item.quantity,
                "list_price": None if item.list_price is None else str(item.list_price),
                "unit_price": str(item.unit_price),
                "discount": "" if line_discount is None else percent(line_discount),
            }
        )
    return {
        "list": None if order.list_amount is None else str(order.list_amount),
        "contract": None if order.contract_amount is None else str(order.contract_amount),
        "discount": "" if discount is None else percent(discount),
        "threshold": percent(_threshold()),
        "floor": str(_floor()),
        "reasons": reasons,
        "lines": lines,
    }


def readable(approval: Approval) -> ReviewFigures:
    f = approval.figures
    money = {k: yuan(Decimal(f[k])) if f.get(k) else "—" for k in ("list", "contract")}
    lines = [
        f"第 {line['n']} 行 {line['product']}"
        + (f"（{line['room']}）" if line["room"] else "")
        + f" ×{line['quantity']}：{yuan(Decimal(line['unit_price']))} 元"
        + (f"，标价 {yuan(Decimal(line['list_price']))} 元，折扣 {line['discount']}" if line["list_price"] else "")
        for line in f.get("lines", [])
    ]
    return ReviewFigures(
        level=level_text(approval),
        list_amount=money["list"],
        contract_amount=money["contract"],
        discount=f.get("discount") or "—",
        reasons=list(f.get("reasons", [])),
        lines=lines,
    )


def level_text(approval: Approval) -> str:
    return f"{LEVEL_LABELS.get(approval.level, approval.level)}审核（{approval.unit.name}）"


# Who approves


@dataclass(frozen=True)
class Level:
    step: int
    name: str
    unit: OrgUnit
    approvers: list[Staff]


async def managers_of(unit_id: int) -> list[Staff]:
    """The active managers of exactly this unit (not of a unit above or below it)."""
    members = await Staff.filter(active=True, org_unit_id=unit_id).order_by("name")
    return [m for m in members if m.has_role(Role.MANAGER)]


async def _next_level(order: Order, *, after: int) -> Level | None:
    """The first level after `after` (-1: from the start) whose unit has a manager."""
    unit = await OrgUnit.get(id=order.org_unit_id)
    chain = [int(part) for part in unit.path.strip("/").split("/") if part]  # the company first
    names = [n.strip() for n in runtime().config.money.approvers.split(",") if n.strip()]
    for step, name in enumerate(names):
        depth = DEPTHS.get(name)
        if step <= after or depth is None or depth >= len(chain):
            continue
        if approvers := await managers_of(chain[depth]):
            return Level(step, name, await OrgUnit.get(id=chain[depth]), approvers)
    if after >= 0:
        return None
    # No level of the rule has a manager: the top unit's decide (if it has none, the review waits for one).
    top = await OrgUnit.get(id=chain[0])
    return Level(len(names), "top", top, await managers_of(top.id))


async def approvers_of(approval: Approval) -> list[Staff]:
    return await managers_of(approval.unit_id)


async def _open_level(order: Order, level: Level, *, round_: int, figures: dict, requested_by: int | None) -> Approval:
    approval = await Approval.create(
        order_id=order.id,
        round=round_,
        step=level.step,
        level=level.name,
        unit_id=level.unit.id,
        figures=figures,
        requested_by_id=requested_by,
    )
    await approval.fetch_related("unit")
    page = ORDER["reject"].page
    assert page is not None
    await notify.approval_requested(
        order, approval.id, level.approvers, readable(approval), review_path=page.url(order.number)
    )
    return approval


def _names(members: list[Staff]) -> str:
    return "、".join(m.name for m in members) or "暂无审核人"


# Asking


async def review_prices(*, actor: Staff, order: Order, after_confirmation: bool) -> None:
    """The order's prices were set or changed (inside the caller's transaction): ask for a review when
    they need one, or clear a review the earlier prices needed."""
    await order.refresh_from_db()
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    reasons = review_reasons(order, items)
    if after_confirmation:
        reasons.append(AFTER_CONFIRMATION)
    for waiting in await Approval.filter(order_id=order.id, state=ApprovalState.PENDING, superseded=False):
        await Approval.filter(id=waiting.id).update(superseded=True)
        await notify.approval_withdrawn(waiting.id)
    if not reasons:
        if order.approval_state in (ApprovalState.PENDING, ApprovalState.REJECTED):
            await Order.filter(id=order.id).update(approval_state=None)
            await timeline.record(order, actor, EventKind.APPROVAL_CLEARED)
            await order.refresh_from_db()
        return
    level = await _next_level(order, after=-1)
    assert level is not None  # from the start there is always a level: the top unit's at the least
    last = await Approval.filter(order_id=order.id).order_by("-round").first()
    round_ = last.round + 1 if last else 1
    await Order.filter(id=order.id).update(approval_state=ApprovalState.PENDING)
    await order.refresh_from_db()
    await timeline.record(
        order,
        actor,
        EventKind.APPROVAL_REQUESTED,
        level=f"{LEVEL_LABELS[level.name]} {level.unit.name}",
        approvers=_names(level.approvers),
        reasons="；".join(reasons),
    )
    await _open_level(order, level, round_=round_, figures=_figures(order, items, reasons), requested_by=actor.id)


# Deciding


async def _decide(approval: Approval, actor: Staff, state: ApprovalState, reason: str = "") -> None:
    """The conditional update: of two approvers tapping at once, one decides, the other is told who did."""
    decided = await Approval.filter(id=approval.id, state=ApprovalState.PENDING, superseded=False).update(
        state=state, decided_by_id=actor.id, decided_at=utcnow(), reason=reason
    )
    if not decided:
        await approval.refresh_from_db()
        await _refuse_closed(approval)


async def _refuse_closed(approval: Approval) -> None:
    """A level no longer waiting: say why (decided by whom, or the prices changed)."""
    if approval.superseded:
        raise Conflict("价格已修改，这次审核已重新提交", "价格已修改")
    if approval.state != ApprovalState.PENDING:
        await approval.fetch_related("decided_by")
        who = approval.decided_by.name if approval.decided_by else "别人"
        verb = "同意" if approval.state == ApprovalState.APPROVED else "驳回"
        raise Conflict(f"这次审核已由 {who} {verb}", f"已由{who}{verb}")


async def _judged(step: Transition, actor: Staff, order: Order, approval_id: int | None) -> Approval:
    """The level this member decides — the one a card or page asked about (`approval_id`), else the one
    waiting — checked against the table's rule.

    The level is read before the check, and deciding it is a conditional update on it still waiting. Only
    one level waits at a time and a decided or superseded one never waits again, so a level still waiting
    when decided was the one the check judged: of two managers of a store tapping at once, the second is
    never passed on to the region's level the first opened, nor a card's 同意 to prices changed since.
    """
    if approval_id is None:
        approval = await waiting_approval(order)
    elif (approval := await Approval.get_or_none(id=approval_id, order_id=order.id).prefetch_related("unit")) is None:
        raise Conflict(f"订单 {order.number} 没有这次审核", "已处理")
    else:
        await _refuse_closed(approval)
    try:
        await ORDER.check(step, actor, order)
    except Conflict:
        if approval is not None:  # decided meanwhile: say by whom rather than who decides next
            await approval.refresh_from_db()
            await _refuse_closed(approval)
        raise
    if approval is None:  # none was waiting when read: whatever waits now was asked after
        raise Conflict(f"订单 {order.number} 没有待审核的价格", "已处理")
    return approval


async def approve_prices(*, actor: Staff, order: Order, approval_id: int | None = None) -> Approval:
    """同意 at the level waiting (`approval_id`: the level a card asked about): the next level is asked,
    or, the last one, the order is approved."""
    step = ORDER["approve"]
    approval = await _judged(step, actor, order, approval_id)
    async with in_transaction():
        await _decide(approval, actor, ApprovalState.APPROVED)
        following = await _next_level(order, after=approval.step)
        passed_on = f"，转{LEVEL_LABELS[following.name]} {following.unit.name} 审核" if following else "，价格审核通过"
        await apply(step, actor=actor, order=order, event={"level": level_text(approval), "next": passed_on})
        await notify.approval_decided(approval.id, by=actor, label=f"已由{actor.name}同意")
        if following is not None:
            await _open_level(
                order, following, round_=approval.round, figures=approval.figures, requested_by=approval.requested_by_id
            )
        else:
            await Order.filter(id=order.id, approval_state=ApprovalState.PENDING).update(
                approval_state=ApprovalState.APPROVED
            )
            await notify.prices_approved(order, by=actor)
    await order.refresh_from_db()
    await approval.refresh_from_db()
    await release_if_ready(order)  # the last approval may be all that held a confirmed order back
    return approval


async def reject_prices(*, actor: Staff, order: Order, reason: str, approval_id: int | None = None) -> Approval:
    """驳回 with a reason: the order is held back and sales is told why; new prices submit again."""
    step = ORDER["reject"]
    approval = await _judged(step, actor, order, approval_id)
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写驳回原因", "reason")
    reason = reason[:255]
    async with in_transaction():
        await _decide(approval, actor, ApprovalState.REJECTED, reason)
        await Order.filter(id=order.id).update(approval_state=ApprovalState.REJECTED)
        await apply(step, actor=actor, order=order, event={"level": level_text(approval), "reason": reason})
        await notify.approval_decided(approval.id, by=actor, label=f"已由{actor.name}驳回")
        await notify.prices_rejected(order, by=actor, reason=reason, edit_path=PRICES.path)
    await order.refresh_from_db()
    await approval.refresh_from_db()
    return approval


# Reading


@dataclass(frozen=True)
class ReviewLine:
    """One level of one round, as the order page lists it."""

    round: int
    level: str
    state: str  # 待审核 / 已审核通过 / 已驳回 / 已重新提交
    decided_by: str
    decided_at: datetime | None
    reason: str
    reasons: list[str]


async def review_history(order: Order) -> list[ReviewLine]:
    rows = await Approval.filter(order_id=order.id).order_by("id").prefetch_related("unit", "decided_by")
    return [
        ReviewLine(
            round=a.round,
            level=level_text(a),
            state="已重新提交" if a.superseded else a.state.label,
            decided_by=a.decided_by.name if a.decided_by else "",
            decided_at=a.decided_at,
            reason=a.reason,
            reasons=list(a.figures.get("reasons", [])),
        )
        for a in rows
    ]


async def waiting_review(order: Order) -> tuple[Approval, list[Staff]] | None:
    """The level waiting now and its approvers (for the review page)."""
    approval = await waiting_approval(order)
    if approval is None:
        return None
    return approval, await approvers_of(approval)
