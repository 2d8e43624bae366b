"""Relay's data: tortoise-orm models, one app label "models"."""

from models.approvals import Approval
from models.audit import AuditEntry
from models.catalog import PriceList, PriceListEntry, Product
from models.enums import (
    ApprovalState,
    AttachmentCategory,
    AuditAction,
    EventKind,
    MessageState,
    OrderState,
    OutboxKind,
    PaymentKind,
    PaymentMethod,
    PieceState,
    Role,
    TaskKind,
    TaskState,
    TicketKind,
    TicketSource,
    TicketState,
)
from models.finance import Invoice
from models.jobs import Alert, Job
from models.messaging import InboxMessage, OutboxMessage
from models.orders import Attachment, Customer, Order, OrderEvent, OrderItem, Payment, Signature, Task, Visit
from models.org import OrgUnit, Staff
from models.pieces import OrderPiece
from models.tickets import Ticket
from models.tokens import ServiceToken

MODEL_MODULES = [
    "models.org",
    "models.catalog",
    "models.orders",
    "models.pieces",
    "models.finance",
    "models.tokens",
    "models.messaging",
    "models.jobs",
    "models.audit",
    "models.approvals",
    "models.tickets",
]

__all__ = [
    "Approval",
    "ApprovalState",
    "AuditAction",
    "AuditEntry",
    "Alert",
    "Invoice",
    "Job",
    "Payment",
    "PaymentKind",
    "PaymentMethod",
    "Signature",
    "Visit",
    "MODEL_MODULES",
    "Attachment",
    "AttachmentCategory",
    "EventKind",
    "Customer",
    "InboxMessage",
    "MessageState",
    "Order",
    "OrderEvent",
    "OrderItem",
    "OrderPiece",
    "ServiceToken",
    "OrderState",
    "OrgUnit",
    "OutboxKind",
    "OutboxMessage",
    "PieceState",
    "PriceList",
    "PriceListEntry",
    "Product",
    "Role",
    "Staff",
    "Task",
    "TaskKind",
    "TaskState",
    "Ticket",
    "TicketKind",
    "TicketSource",
    "TicketState",
]
