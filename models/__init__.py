"""Relay's data: tortoise-orm models, one app label "models"."""

from models.approvals import Approval
from models.audit import AuditEntry
from models.catalog import PriceList, PriceListEntry, Product
from models.contact import CallState, ContactWay, CustomerMessage, ExternalContact, SmsMessage
from models.customer_requests import CustomerRequest
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
    StockKind,
    StockMoveKind,
    TaskKind,
    TaskState,
    TicketKind,
    TicketSource,
    TicketState,
)
from models.finance import Invoice
from models.integration import IdempotencyKey, WebhookDelivery, WebhookSubscription
from models.jobs import Alert, AlertThreshold, Job
from models.leads import Lead, LeadEvent
from models.messaging import InboxMessage, OutboxMessage
from models.news import News, NewsDelivery, NewsKind
from models.orders import Attachment, Customer, Order, OrderEvent, OrderItem, Payment, Signature, Task, Visit
from models.org import OrgUnit, Staff
from models.pieces import OrderPiece
from models.stock import StockLevel, StockMove, Warehouse
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
    "models.news",
    "models.stock",
    "models.integration",
]

__all__ = [
    "IdempotencyKey",
    "WebhookDelivery",
    "WebhookSubscription",
    "News",
    "NewsDelivery",
    "NewsKind",
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
    "AlertThreshold",
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
    "StockKind",
    "StockLevel",
    "StockMove",
    "StockMoveKind",
    "Task",
    "TaskKind",
    "TaskState",
    "Ticket",
    "TicketKind",
    "TicketSource",
    "TicketState",
    "Warehouse",
]
