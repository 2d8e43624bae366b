"""Plain values the card builders read: built by workflow selectors, so builders do no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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

    @property
    def items_text(self) -> str:
        return "、".join(self.items) if self.items else "—"


@dataclass(frozen=True)
class TaskView:
    id: int
    kind_label: str
    state_label: str
    scheduled_date: date
    order: OrderView
