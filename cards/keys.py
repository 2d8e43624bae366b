"""Typed button keys and card task_ids: packed and unpacked here, never concatenated by hand.

A button key is what WeCom hands back as EventKey (<= 1024 bytes); a card task_id must be unique per
app forever, [0-9A-Za-z_-@] and <= 128 bytes (42014 on reuse), so it ends in a random part.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from enum import StrEnum
from typing import Any, ClassVar, Self, get_type_hints

from models import TaskKind

SEPARATOR = ":"
KEY_LIMIT = 1024
TASK_ID_RE = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")


class KeyError_(ValueError):
    pass


_registry: dict[str, type[ButtonKey]] = {}


@dataclasses.dataclass(frozen=True)
class ButtonKey:
    prefix: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.prefix in _registry:
            raise TypeError(f"duplicate button key prefix {cls.prefix}")
        _registry[cls.prefix] = cls

    def pack(self) -> str:
        parts = [self.prefix]
        for field in dataclasses.fields(self):
            value = str(getattr(self, field.name))
            if SEPARATOR in value:
                raise KeyError_(f"{field.name} may not contain {SEPARATOR!r}")
            parts.append(value)
        packed = SEPARATOR.join(parts)
        if len(packed.encode()) > KEY_LIMIT:
            raise KeyError_("button key longer than WeCom allows")
        return packed

    @classmethod
    def unpack(cls, packed: str) -> Self:
        prefix, *values = packed.split(SEPARATOR)
        if prefix != cls.prefix:
            raise KeyError_(f"not a {cls.__name__} key")
        fields = dataclasses.fields(cls)
        if len(values) != len(fields):
            raise KeyError_(f"{cls.__name__} key has {len(values)} values, expected {len(fields)}")
        hints = get_type_hints(cls)
        try:
            kwargs = {f.name: hints[f.name](v) for f, v in zip(fields, values, strict=True)}
        except (TypeError, ValueError) as exc:
            raise KeyError_(f"bad {cls.__name__} key") from exc
        return cls(**kwargs)


def unpack_key(packed: str) -> ButtonKey:
    prefix = packed.split(SEPARATOR, 1)[0]
    cls = _registry.get(prefix)
    if cls is None:
        raise KeyError_(f"unknown button key {prefix!r}")
    return cls.unpack(packed)


class CardKind(StrEnum):
    """Every card Relay sends, by what it is about. The value starts the card's task_id (stored on the
    outbox row), so a card can be found again to update every copy of it."""

    READY_MEASURE = "readymeasure"  # an order waiting for a measure dispatcher
    READY_INSTALL = "readyinstall"
    MEASURE_TASK = "measure"  # a worker's new job: accept or decline
    INSTALL_TASK = "install"
    BOOKED_MEASURE = "bookedmeasure"  # to sales: the job is booked
    BOOKED_INSTALL = "bookedinstall"
    MEASURE_BENCH = "workbench"  # the worker's job in progress: photos, done
    INSTALL_BENCH = "installbench"
    RESCHEDULED = "rescheduled"
    REASSIGNED = "reassigned"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    RESTORED = "restored"  # a cancel undone
    CORRECTED = "corrected"  # a payment voided or corrected, an upload removed, the customer's details edited
    REMEASURE = "remeasure"
    ARRIVED = "arrived"
    PHOTO = "photo"
    MEASURED = "measured"
    DESIGNED = "designed"
    CONFIRMED = "confirmed"
    GOODS_IN = "goodsin"
    SCAN = "scan"
    INSTALLED = "installed"
    SIGN_LINK = "signlink"
    VISIT = "visit"
    SIGNED = "signed"
    REMIND = "remind"
    MORNING = "morning"  # a field worker's visits today
    NUDGE = "nudge"
    ESCALATE = "escalate"
    ALERT = "alert"
    ORDER = "order"
    MY_TASKS = "mytasks"
    HELP = "help"
    SEARCH = "search"
    NEW_ORDER_FORM = "neworderform"
    APPROVAL = "approval"  # an approver's price review (审核): 同意 / 驳回
    APPROVAL_RESULT = "approvalresult"  # to sales: approved, or rejected with the reason
    PAYMENT = "payment"  # to finance: a recorded payment waiting for 确认到账
    RELEASED = "released"  # to the factory: a new production order
    PIECE = "piece"  # one production piece and its next step
    CUSTOMER_REQUEST = "custreq"  # to dispatchers: the customer asks to move a booked visit
    LEAD = "lead"  # a showroom booking (预约) with its consultant: 领单, 到店, outcomes
    LEADS_LIST = "leadlist"  # 预约 in chat: the link to the leads page
    CUSTOMER_MILESTONE = "custmile"  # to sales: a message for the customer, 发给客户 as a mass-send task
    TICKET = "ticket"  # to after-sales: a service ticket to book (派单)
    TICKET_TASK = "tickettask"  # to the installer: a ticket given to them (接单 / 拒单)
    TICKET_BENCH = "ticketbench"  # the installer's ticket in progress: photos before and after, 完成
    TICKET_DONE = "ticketdone"  # done: the customer's link to forward for confirmation
    TICKET_NOTICE = "ticketnote"  # declined, confirmed, closed, ...
    NEWS = "news"  # a news item (公告) to its audience: 查看 opens it (and records the read)
    NEWS_LIST = "newslist"  # 公告 in chat: the latest news, unread first
    DEALER_ORDER = "dealer"  # to dealer managers: a dealer's order to accept or return
    DEALER_NOTICE = "dealernote"  # to the dealer's staff: accepted or returned
    DEALER_RELEASED = "dealerrel"  # to the factory: a dealer order's pieces to make
    DEALER_PIECE = "dealerpiece"  # one dealer order's piece and its next step (the factory's scan)
    DEALER_LINKS = "dealerlinks"  # 订货 in chat: the dealer's catalogue and orders
    STOCK_LOW = "stocklow"  # to purchasing: a stock level fell below its safety level (by stock level id)
    STOCK = "stock"  # 库存 in chat: the levels asked for and the link to the stock page

    @classmethod
    def ready(cls, kind: TaskKind) -> CardKind:
        return {TaskKind.MEASURE: cls.READY_MEASURE, TaskKind.INSTALL: cls.READY_INSTALL}[kind]

    @classmethod
    def task(cls, kind: TaskKind) -> CardKind:
        return {TaskKind.MEASURE: cls.MEASURE_TASK, TaskKind.INSTALL: cls.INSTALL_TASK}[kind]

    @classmethod
    def booked(cls, kind: TaskKind) -> CardKind:
        return {TaskKind.MEASURE: cls.BOOKED_MEASURE, TaskKind.INSTALL: cls.BOOKED_INSTALL}[kind]


@dataclasses.dataclass(frozen=True)
class CardRef:
    """A card about one thing (an order, a job, an alert): each send gets a task_id of its own, and
    every card sent about it shares the prefix."""

    kind: CardKind
    entity_id: int

    def new_task_id(self) -> str:
        task_id = f"{self.prefix}{secrets.token_hex(6)}"
        if not TASK_ID_RE.match(task_id):
            raise KeyError_("card task_id outside WeCom's charset")
        return task_id

    @property
    def prefix(self) -> str:
        return f"{self.kind.value}-{self.entity_id}-"


# The buttons Relay puts on cards.


@dataclasses.dataclass(frozen=True)
class DispatchKey(ButtonKey):
    """One-tap dispatch of the suggested worker (measure or install)."""

    prefix: ClassVar[str] = "dp"
    kind: str  # TaskKind value
    order_id: int
    worker_id: int
    date: str  # YYYY-MM-DD


@dataclasses.dataclass(frozen=True)
class TaskAnswerKey(ButtonKey):
    prefix: ClassVar[str] = "ta"
    task_id: int
    accept: int  # 1 accept, 0 decline


@dataclasses.dataclass(frozen=True)
class PhotoCategoryKey(ButtonKey):
    prefix: ClassVar[str] = "pc"
    attachment_id: int
    category: str


@dataclasses.dataclass(frozen=True)
class PhotoBatchKey(ButtonKey):
    """One category for a batch of photos sent together: the sender's unsorted photos of the job, first to last."""

    prefix: ClassVar[str] = "pb"
    task_id: int
    first_id: int
    last_id: int
    category: str


@dataclasses.dataclass(frozen=True)
class FinishTaskKey(ButtonKey):
    prefix: ClassVar[str] = "ft"
    task_id: int


@dataclasses.dataclass(frozen=True)
class PhotosForTaskKey(ButtonKey):
    """Photos sent next belong to this task (for a worker with several open tasks)."""

    prefix: ClassVar[str] = "pt"
    task_id: int


@dataclasses.dataclass(frozen=True)
class GoodsInKey(ButtonKey):
    """A scanned production number belongs to this order item."""

    prefix: ClassVar[str] = "gi"
    item_id: int
    production_number: str


@dataclasses.dataclass(frozen=True)
class PieceStepKey(ButtonKey):
    """Move this production piece by this row of the piece lifecycle (workflow/piece_lifecycle.py)."""

    prefix: ClassVar[str] = "ps"
    piece_id: int
    step: str


@dataclasses.dataclass(frozen=True)
class AlertHandledKey(ButtonKey):
    prefix: ClassVar[str] = "ah"
    alert_id: int


@dataclasses.dataclass(frozen=True)
class ApproveKey(ButtonKey):
    """同意 on a price review card: the level (Approval row) it was sent for."""

    prefix: ClassVar[str] = "apv"
    approval_id: int


@dataclasses.dataclass(frozen=True)
class ConfirmPaymentKey(ButtonKey):
    """Finance confirms that a recorded payment arrived (确认到账)."""

    prefix: ClassVar[str] = "cp"
    payment_id: int


@dataclasses.dataclass(frozen=True)
class RequestHandledKey(ButtonKey):
    """已处理 on a customer's reschedule request: the request, and the kind of job it is about."""

    prefix: ClassVar[str] = "crh"
    request_id: int
    kind: str  # TaskKind value


@dataclasses.dataclass(frozen=True)
class LeadStepKey(ButtonKey):
    """Take this row of the lead lifecycle (workflow/lead_lifecycle.py) on this lead."""

    prefix: ClassVar[str] = "ld"
    lead_id: int
    step: str


@dataclasses.dataclass(frozen=True)
class CustomerSendKey(ButtonKey):
    """发给客户: the milestone's message to the customer's WeChat, as a mass-send task (客户联系)."""

    prefix: ClassVar[str] = "csend"
    order_id: int
    milestone: str


@dataclasses.dataclass(frozen=True)
class CustomerSmsKey(ButtonKey):
    """发短信: the milestone's message as an SMS, where SMS is configured."""

    prefix: ClassVar[str] = "csms"
    order_id: int
    milestone: str


@dataclasses.dataclass(frozen=True)
class TicketDispatchKey(ButtonKey):
    """One-tap dispatch of a service ticket to the suggested installer."""

    prefix: ClassVar[str] = "tkd"
    ticket_id: int
    worker_id: int
    date: str  # YYYY-MM-DD


@dataclasses.dataclass(frozen=True)
class TicketAnswerKey(ButtonKey):
    prefix: ClassVar[str] = "tka"
    ticket_id: int
    accept: int  # 1 accept, 0 decline


@dataclasses.dataclass(frozen=True)
class TicketPhotosKey(ButtonKey):
    """Photos sent next belong to this ticket, as before (0) or after (1) the work."""

    prefix: ClassVar[str] = "tkp"
    ticket_id: int
    after: int


@dataclasses.dataclass(frozen=True)
class TicketFinishKey(ButtonKey):
    prefix: ClassVar[str] = "tkf"
    ticket_id: int


@dataclasses.dataclass(frozen=True)
class DealerStepKey(ButtonKey):
    """Take this row of the dealer order lifecycle (workflow/dealer_lifecycle.py) on this dealer order."""

    prefix: ClassVar[str] = "dlr"
    order_id: int
    step: str


@dataclasses.dataclass(frozen=True)
class DealerPieceStepKey(ButtonKey):
    """Move this dealer order's piece by this row of its lifecycle (the factory's rows are the piece's own)."""

    prefix: ClassVar[str] = "dps"
    piece_id: int
    step: str
