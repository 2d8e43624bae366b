"""Plain values the card builders read: built by the workflow (selectors, stats), so builders do no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from cards.common import map_url
from infra.security import mask_phone
from infra.timeutil import local_moment
from models import OrderState, OrgUnit


@dataclass(frozen=True)
class OrderView:
    id: int
    number: str
    state: str  # value of OrderState
    state_label: str
    customer_name: str
    phone: str
    address: str
    items: list[str]
    sales_name: str
    expected_measure_date: date | None
    timeline: list[str] = field(default_factory=list)
    # The order's money in a line (合同金额 ¥9,800.00 · 优惠 ¥40.00, or 未定价): only for members who see
    # money (workflow/privacy.py sees_money); empty for the others.
    money: str = ""
    # Released to the factory: its production order number and the install date its pieces point to.
    production_order_number: str | None = None
    expected_install_date: date | None = None

    @property
    def phone_masked(self) -> str:
        """What a card shows (138****5678): a card stays in WeCom's chat history; the full number is on
        the order page for whoever calls the customer."""
        return mask_phone(self.phone)

    @property
    def items_text(self) -> str:
        return "、".join(self.items) if self.items else "—"


QUEUE_LIMIT = 50  # how much of a queue is shown: the oldest; a card and a phone screen hold no more


@dataclass(frozen=True)
class QueueItem:
    """One thing waiting on a member (an order's next step, or an alert) and where they take it."""

    number: str
    customer_name: str
    address: str
    phone: str
    state_label: str
    step: str  # what to do, as its button reads: 派测量, 上传设计, 接单, 预警：超时未派测量, ...
    path: str  # where it is done: /h5/orders/<number>/design, ...
    since: datetime  # waiting since (oldest first)
    appointment: date | None = None  # the field job's date, when the step is a visit to the customer
    job: str = ""  # 测量 / 安装, when the step is a field job's
    accept_task: int | None = None  # the job to accept, when the step is 接单 (one tap on 我的待办)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def map_url(self) -> str:
        return map_url(self.address)


@dataclass(frozen=True)
class TaskView:
    id: int
    kind_label: str
    state_label: str
    scheduled_date: date
    order: OrderView


# The managers' numbers (built by workflow.stats). The five stages counted (seed 000):
# (key, the order's stage time, label).
STAGES = (
    ("created", "created_at", "新建订单"),
    ("measured", "measured_at", "测量完成"),
    ("designed", "designed_at", "设计完成"),
    ("in_stock", "in_stock_at", "产品入库"),
    ("installed", "installed_at", "安装完成"),
)


@dataclass(frozen=True)
class Period:
    start: date  # inclusive, local dates
    end: date  # exclusive
    label: str

    @property
    def start_at(self) -> datetime:
        return local_moment(self.start)

    @property
    def end_at(self) -> datetime:
        return local_moment(self.end)


ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Money:
    """The money of a scope (built by workflow.stats_money). Cancelled orders have no contract and owe
    nothing; their payments were still received, so they count as collected."""

    contract: Decimal = ZERO  # sum of contract_amount, orders confirmed in the period
    contract_orders: int = 0
    collected: Decimal = ZERO  # standing payments (not voided) recorded in the period, 待确认 included
    collected_confirmed: Decimal = ZERO  # of those, confirmed by finance
    outstanding: Decimal = ZERO  # now: contract less standing payments, orders still owing (never negative)
    outstanding_orders: int = 0
    list_amount: Decimal = ZERO  # priced orders confirmed in the period: their lines at list price
    priced_contract: Decimal = ZERO  # and their contract amounts

    def __add__(self, other: Money) -> Money:
        return Money(
            self.contract + other.contract,
            self.contract_orders + other.contract_orders,
            self.collected + other.collected,
            self.collected_confirmed + other.collected_confirmed,
            self.outstanding + other.outstanding,
            self.outstanding_orders + other.outstanding_orders,
            self.list_amount + other.list_amount,
            self.priced_contract + other.priced_contract,
        )

    @property
    def collected_pending(self) -> Decimal:
        return self.collected - self.collected_confirmed

    @property
    def avg_discount(self) -> Decimal | None:
        """1 - contract / list over the priced orders (0.1234 is 12.34 % off), or None without any."""
        if self.list_amount <= 0:
            return None
        return (1 - self.priced_contract / self.list_amount).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class SeriesLine:
    """A product series' priced lines on the orders confirmed in the period (before the order discount)."""

    series: str
    orders: int
    quantity: int
    amount: Decimal
    share: Decimal  # of all the series' amounts, 0.2500 is 25 %


@dataclass(frozen=True)
class ConversionLine:
    """Showroom bookings (预约) of a store or a consultant over the period: received (booked in it; a
    consultant's: those they hold), won, and decided (won or 到店未成交) in it. Rate: won / decided."""

    name: str
    received: int
    won: int
    decided: int

    @property
    def rate(self) -> float | None:
        return self.won / self.decided if self.decided else None

    @property
    def rate_text(self) -> str:
        return f"{self.rate:.0%}" if self.rate is not None else "—"

    @property
    def line(self) -> str:
        return f"{self.name}：预约 {self.received} · 成交 {self.won}/{self.decided} · 成单率 {self.rate_text}"


@dataclass
class Figures:
    counts: dict[str, int] = field(default_factory=dict)  # stage key -> orders reaching it in the period
    money: Money | None = None  # None for a viewer who may not see money


@dataclass
class Stats:
    unit: OrgUnit
    period: Period
    total: Figures
    by_unit: list[tuple[OrgUnit, Figures]]
    waiting: dict[OrderState, int]
    avg_days: dict[str, float | None]
    scores: dict[str, float | None]  # role -> average in the period
    lowest: list[tuple[str, float, int]]  # (name, average, scores) of staff below the period's average, lowest first
    series: list[SeriesLine] = field(default_factory=list)  # by amount, largest first; empty without money
    # Showroom bookings' conversion by store and by consultant (workflow/leads.py conversion).
    lead_stores: list[ConversionLine] = field(default_factory=list)
    lead_people: list[ConversionLine] = field(default_factory=list)
