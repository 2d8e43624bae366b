"""Alerts (预警): rules with thresholds from config, or the one an admin set (the alert_threshold table).
Each fires once per order and rule, to the managers whose part of the company covers the order, says what
to do, and can be marked handled from the card."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.timeutil import fmt_time, local_today, utcnow
from models import (
    Alert,
    AlertThreshold,
    AuditAction,
    Order,
    OrderPiece,
    OrderState,
    PieceState,
    Role,
    Staff,
    Task,
    TaskKind,
    Ticket,
)
from models.enums import OPEN_TASK_STATES
from workflow import audit, notify
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.owed import balance, owing
from workflow.scope import covers, require_role, staff_covering


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    todo: str
    find: Callable[[int], Awaitable[list[tuple[Order, str]]]]  # threshold -> (order, detail)
    threshold: Callable[[], int]
    role: Role = Role.MANAGER  # who over the order hears of it and handles it
    also: tuple[Role, ...] = ()  # roles who hear of it and may handle it too (the factory of a late piece)
    # A rule raised once per row of something on the order (a service ticket), not once per order: gives
    # (order, the row's key, detail); the alert is kept as "<rule key>:<row key>".
    rows: Callable[[int], Awaitable[list[tuple[Order, str, str]]]] | None = None

    @property
    def roles(self) -> tuple[Role, ...]:
        return (self.role, *self.also)


async def _not_dispatched(hours: int) -> list[tuple[Order, str]]:
    since = utcnow() - timedelta(hours=hours)
    orders = await Order.filter(state=OrderState.CREATED, state_since__lt=since)
    return [(o, f"订单已等待派测量超过 {hours} 小时") for o in orders]


async def _task_overdue(kind: TaskKind, days: int) -> list[tuple[Order, str]]:
    before = local_today() - timedelta(days=days - 1)
    tasks = await Task.filter(kind=kind, state__in=list(OPEN_TASK_STATES), scheduled_date__lt=before).prefetch_related(
        "order", "assignee"
    )
    return [
        (t.order, f"{kind.label}日期 {t.scheduled_date:%m月%d日} 已过，{t.assignee.name if t.assignee else ''}尚未完成")
        for t in tasks
        if t.order.state in (OrderState.MEASURE_SCHEDULED, OrderState.INSTALL_SCHEDULED)
    ]


async def _stuck(state: OrderState, stamp: str, days: int, text: str) -> list[tuple[Order, str]]:
    since = utcnow() - timedelta(days=days)
    orders = await Order.filter(state=state, **{f"{stamp}__lt": since})
    return [(o, text.format(days=days)) for o in orders]


async def _balance_overdue(days: int) -> list[tuple[Order, str]]:
    """Installed more than `days` ago, and the contract not fully paid (standing payments: the total stored
    on the order, workflow.owed)."""
    since = utcnow() - timedelta(days=days)
    orders = await owing(
        Order.filter(
            state__in=[OrderState.INSTALLED, OrderState.SIGNED, OrderState.VISITED],
            installed_at__lt=since,
            contract_amount__isnull=False,
        )
    )
    return [(o, f"安装完成已超过 {days} 天，仍有 {balance(o):.2f} 元未收") for o in orders]


async def _pieces_late(days: int) -> list[tuple[Order, str]]:
    before = local_today() - timedelta(days=days - 1)
    late = await OrderPiece.filter(
        state__in=[PieceState.QUEUED, PieceState.IN_PRODUCTION], expected_date__lt=before
    ).order_by("expected_date")
    by_order: dict[int, list[OrderPiece]] = {}
    for piece in late:
        by_order.setdefault(piece.order_id, []).append(piece)
    orders = await Order.filter(id__in=list(by_order), state=OrderState.CONFIRMED)
    found = []
    for order in orders:
        pieces = by_order[order.id]
        first = pieces[0]
        more = f"等 {len(pieces)} 件" if len(pieces) > 1 else ""
        due = f"{first.expected_date:%m月%d日}"
        found.append((order, f"生产编号 {first.production_number}{more} 应于 {due} 完工，仍{first.state.label}"))
    return found


async def _tickets_overdue(_: int) -> list[tuple[Order, str, str]]:
    """Service tickets still open past their deadline (once per ticket: marked as alerted)."""
    from workflow.tickets import overdue

    found = []
    for ticket, order in await overdue():
        detail = (
            f"{ticket.kind.label}工单 {ticket.number} 应于 {fmt_time(ticket.deadline)} 前处理，仍{ticket.state.label}"
        )
        found.append((order, str(ticket.id), detail))
        await Ticket.filter(id=ticket.id).update(overdue_alerted_at=utcnow())
    return found


RULES = [
    Rule(
        "not_dispatched",
        "超时未派测量",
        "联系客户确认测量时间并派单",
        _not_dispatched,
        lambda: runtime().config.alerts.not_dispatched_hours,
    ),
    Rule(
        "measure_overdue",
        "测量逾期",
        "联系测量员了解情况，必要时改期或改派",
        lambda n: _task_overdue(TaskKind.MEASURE, n),
        lambda: runtime().config.alerts.measure_overdue_days,
    ),
    Rule(
        "design_overdue",
        "设计逾期",
        "催设计师完成设计，或重新安排设计",
        lambda n: _stuck(OrderState.MEASURED, "measured_at", n, "测量完成已超过 {days} 天仍未出设计"),
        lambda: runtime().config.alerts.design_overdue_days,
    ),
    Rule(
        "install_overdue",
        "安装逾期",
        "联系安装师傅了解情况，必要时改期或改派",
        lambda n: _task_overdue(TaskKind.INSTALL, n),
        lambda: runtime().config.alerts.install_overdue_days,
    ),
    Rule(
        "in_stock_idle",
        "到货未约安装",
        "联系客户预约安装并派单",
        lambda n: _stuck(OrderState.IN_STOCK, "in_stock_at", n, "货已到齐超过 {days} 天仍未预约安装"),
        lambda: runtime().config.alerts.in_stock_idle_days,
    ),
    Rule(
        "unsigned",
        "安装后未签字",
        "请销售或安装师傅把签字链接发给客户",
        lambda n: _stuck(OrderState.INSTALLED, "installed_at", n, "安装完成已超过 {days} 天客户仍未签字"),
        lambda: runtime().config.alerts.unsigned_days,
    ),
    Rule(
        "balance_overdue",
        "尾款逾期未收",
        "联系销售与客户催收尾款，收到后登记并确认到账",
        _balance_overdue,
        lambda: runtime().config.alerts.balance_overdue_days,
        Role.FINANCE,
    ),
    Rule(
        "piece_late",
        "生产延期",
        "联系工厂确认完工日期，必要时告知客户新的安装时间",
        _pieces_late,
        lambda: runtime().config.alerts.piece_late_days,
        also=(Role.FACTORY,),
    ),
    Rule(
        "not_in",
        "确认后未到齐",
        "核对每件产品的生产与发货进度，催工厂或仓库",
        lambda n: _stuck(OrderState.CONFIRMED, "confirmed_at", n, "客户确认已超过 {days} 天，产品仍未全部到仓"),
        lambda: runtime().config.alerts.not_in_days,
    ),
    Rule(
        "ticket_overdue",
        "售后工单逾期",
        "联系售后与师傅了解情况，尽快上门处理或回电客户",
        lambda n: _none(),
        lambda: 1,
        rows=_tickets_overdue,
    ),
]
LOW_SCORE = Rule("low_score", "客户评分偏低", "48 小时内回电客户了解情况并跟进", lambda n: _none(), lambda: 0)
RULES_BY_KEY = {r.key: r for r in [*RULES, LOW_SCORE]}
# Who handles alerts: the roles some rule sends its alerts to.
ALERT_ROLES = tuple(dict.fromkeys(role for r in RULES_BY_KEY.values() for role in r.roles))


async def _none() -> list[tuple[Order, str]]:
    return []


async def raise_alert(order: Order, rule: Rule, detail: str) -> Alert | None:
    """Once per order and rule: the second time finds the row and does nothing."""
    async with in_transaction():
        raised = await _record(order, rule, detail)
        if raised is None:
            return None
        await notify.alerts_raised([raised])
    return raised.alert


def rule_of(key: str) -> Rule | None:
    """The rule an alert was raised by (a per-row rule's alerts are kept as "<rule>:<row>")."""
    return RULES_BY_KEY.get(key.split(":", 1)[0])


async def _record(order: Order, rule: Rule, detail: str, *, key: str = "") -> notify.RaisedAlert | None:
    key = key or rule.key
    if await Alert.filter(order_id=order.id, rule=key).exists():
        return None
    told = [m.userid for role in rule.roles for m in await staff_covering(order, role)]
    managers = list(dict.fromkeys(told))
    try:
        async with in_transaction():  # a savepoint: a clash rolls back this alert alone
            alert = await Alert.create(order=order, rule=key, detail=detail[:255])
    except IntegrityError:
        return None  # raised at the same moment by another worker
    return notify.RaisedAlert(alert, order, managers, title=rule.title, detail=detail, todo=rule.todo)


async def scan(payload: dict[str, object] | None = None) -> int:
    """Check every rule; how many new alerts were raised. They are told together (in the job's
    transaction), so a manager with many gets one digest."""
    if not runtime().config.alerts.enabled:
        return 0
    raised = []
    chosen = await chosen_thresholds()
    for rule in RULES:
        threshold = chosen.get(rule.key, rule.threshold())
        if threshold <= 0:
            continue
        if rule.rows is not None:
            for order, row, detail in await rule.rows(threshold):
                if (alert := await _record(order, rule, detail, key=f"{rule.key}:{row}")) is not None:
                    raised.append(alert)
            continue
        for order, detail in await rule.find(threshold):
            if (alert := await _record(order, rule, detail)) is not None:
                raised.append(alert)
    await notify.alerts_raised(raised)
    return len(raised)


async def handle_alert(*, actor: Staff, alert_id: int) -> Alert:
    require_role(actor, *ALERT_ROLES)
    alert = await Alert.get_or_none(id=alert_id)
    if alert is None:
        raise NotFound("预警不存在")
    rule = rule_of(alert.rule)
    require_role(actor, *(rule.roles if rule is not None else (Role.MANAGER,)))
    order = await Order.get(id=alert.order_id)
    if not await covers(actor, order):
        raise NotAllowed(f"订单 {order.number} 不在你负责的范围内")
    async with in_transaction():
        done = await Alert.filter(id=alert.id, handled_at__isnull=True).update(
            handled_by_id=actor.id, handled_at=utcnow()
        )
        if not done:
            await alert.fetch_related("handled_by")
            who = alert.handled_by.name if alert.handled_by else "别人"
            raise Conflict(f"这条预警已由 {who} 处理", f"已由{who}处理")
        await notify.alert_handled(alert, actor)
    await alert.refresh_from_db()
    return alert


# Thresholds an admin may change (the admin page): every rule with a threshold of days or hours; the
# config's value is the default until an admin sets one.
ADJUSTABLE = tuple(r for r in RULES if r.rows is None)
MAX_THRESHOLD = 365


async def chosen_thresholds() -> dict[str, int]:
    return dict(await AlertThreshold.all().values_list("rule", "threshold"))


async def thresholds() -> list[tuple[Rule, int, int]]:
    """Each adjustable rule with its threshold now and the config's default."""
    chosen = await chosen_thresholds()
    return [(r, chosen.get(r.key, r.threshold()), r.threshold()) for r in ADJUSTABLE]


async def set_threshold(*, actor: Staff, rule_key: str, value: str) -> tuple[Rule, int, int]:
    """An admin's threshold for a rule (0 turns it off); returns the rule, the old and the new value."""
    require_role(actor, Role.ADMIN)
    rule = next((r for r in ADJUSTABLE if r.key == rule_key), None)
    if rule is None:
        raise NotFound("预警规则不存在")
    text = value.strip()
    if not text.isdigit() or int(text) > MAX_THRESHOLD:
        raise Invalid(f"“{rule.title}”的阈值应为 0 到 {MAX_THRESHOLD} 的整数（0 表示关闭）", rule_key)
    old = (await chosen_thresholds()).get(rule.key, rule.threshold())
    await AlertThreshold.update_or_create(defaults={"threshold": int(text)}, rule=rule.key)
    await audit.record(
        AuditAction.ALERT_RULE_EDIT, actor=actor, rule=rule.key, threshold_from=old, threshold_to=int(text)
    )
    return rule, old, int(text)
