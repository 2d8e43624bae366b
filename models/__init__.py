"""Relay's data: tortoise-orm models, one app label "models"."""

from models.approvals import Approval
from models.audit import AuditEntry
from models.catalog import PriceList, PriceListEntry, Product
from models.contact import CallState, ContactWay, CustomerMessage, ExternalContact, SmsMessage
from models.customer_requests import CustomerRequest
from models.dealers import (
    DealerEventKind,
    DealerOrder,
    DealerOrderEvent,
    DealerOrderKind,
    DealerOrderLine,
    DealerOrderState,
    DealerPiece,
)
from models.enums import (
    ApprovalState,
    AttachmentCategory,
    AuditAction,
    CustomerRequestState,
    DayPart,
    EventKind,
    LeadEventKind,
    LeadSource,
    LeadState,
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
from models.leads import Lead, LeadEvent
from models.messaging import InboxMessage, OutboxMessage
from models.orders import Attachment, Customer, Order, OrderEvent, OrderItem, Payment, Signature, Task, Visit
from models.org import OrgUnit, Staff, UnitKind
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
    "models.customer_requests",
    "models.leads",
    "models.contact",
    "models.tickets",
    "models.dealers",
]

__all__ = [
    "CustomerRequest",
    "CustomerRequestState",
    "DayPart",
    "Lead",
    "LeadEvent",
    "LeadEventKind",
    "LeadSource",
    "LeadState",
    "CallState",
    "ContactWay",
    "CustomerMessage",
    "ExternalContact",
    "SmsMessage",
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
    "UnitKind",
    "DealerEventKind",
    "DealerOrder",
    "DealerOrderEvent",
    "DealerOrderKind",
    "DealerOrderLine",
    "DealerOrderState",
    "DealerPiece",
]
