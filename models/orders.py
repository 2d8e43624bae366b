from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.catalog import Product
from models.enums import (
    ApprovalState,
    AttachmentCategory,
    EventKind,
    OrderState,
    PaymentKind,
    PaymentMethod,
    TaskKind,
    TaskState,
)
from models.org import OrgUnit, Staff


class Customer(Model):
    # A customer's phone is encrypted at rest; `phone_index` is a keyed hash so it can still be looked up.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    phone_encrypted = fields.TextField()
    phone_index = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When an admin erased them at their request (PIPL): name 已删除, no phone, no index; orders stay.
    erased_at = fields.DatetimeField(null=True)

    class Meta:
        table = "customer"


class Order(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)  # the paper order number: the customer's id
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="orders", on_delete=fields.RESTRICT
    )
    customer_id: int
    address = fields.CharField(max_length=255)
    state = fields.CharEnumField(OrderState, max_length=32, default=OrderState.CREATED, db_index=True)
    sales: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="sold_orders", on_delete=fields.RESTRICT
    )
    sales_id: int
    # The unit that owns the order (the salesperson's when it was created): managers see their subtree.
    org_unit: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="orders", on_delete=fields.RESTRICT
    )
    org_unit_id: int
    expected_measure_date = fields.DateField(null=True)
    note = fields.TextField(default="")
    # The price agreed with the customer: the sum of the priced lines less the order's discount (or,
    # for an order without prices, typed when they accept the design). Payments count against it.
    contract_amount = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    # The lines at list price, and the discount off the whole order: average discount = 1 - contract/list.
    list_amount = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    discount_amount = fields.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    # The standing (not voided) payments' total, kept by workflow/owed.py in the same transaction as every
    # payment recorded, voided or corrected: what is owed is contract_amount - paid_amount, read without
    # summing payments (migration 0017 indexes the orders still owing). Never written from a loaded order.
    paid_amount = fields.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    # The price review (审核): pending or rejected holds the order back from production.
    approval_state = fields.CharEnumField(ApprovalState, max_length=16, null=True)
    # Released to the factory (workflow/production.py): its production order number (P2612-000123)
    # and when. Null: not released (or released before production was tracked: pieces without numbers).
    production_order_number = fields.CharField(max_length=32, null=True, unique=True)
    released_at = fields.DatetimeField(null=True)
    # The customer's own page (workflow/customer_link.py): its links carry this number, and revoking them
    # all (a link forwarded to the wrong person) raises it, so every earlier link stops working.
    customer_link_version = fields.IntField(default=0, db_default=0)
    cancel_reason = fields.CharField(max_length=255, default="")
    # A cancel can be undone for a while (schedule.cancel_undo_minutes): when, and the state it left.
    cancelled_at = fields.DatetimeField(null=True)
    cancelled_from = fields.CharEnumField(OrderState, max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # When the order last reached each stage: the numbers managers ask for are counts and averages of these.
    measured_at = fields.DatetimeField(null=True, db_index=True)
    designed_at = fields.DatetimeField(null=True, db_index=True)
    confirmed_at = fields.DatetimeField(null=True, db_index=True)
    in_stock_at = fields.DatetimeField(null=True, db_index=True)
    installed_at = fields.DatetimeField(null=True, db_index=True)
    signed_at = fields.DatetimeField(null=True)
    visited_at = fields.DatetimeField(null=True)
    # The last time the state changed: how long an order has been stuck where it is.
    state_since = fields.DatetimeField(null=True)

    class Meta:
        table = "order"
        # The stage columns are listed here as well as db_index: tortoise's AddField (migration 0003)
        # does not create a field's index, and the managers' numbers scan them.
        indexes = (
            ("org_unit_id", "state"),
            ("measured_at",),
            ("designed_at",),
            ("confirmed_at",),
            ("in_stock_at",),
            ("installed_at",),
            # A unit's orders by stage time: a store's numbers without scanning the company's (migration 0012).
            ("org_unit_id", "created_at"),
            ("org_unit_id", "measured_at"),
            ("org_unit_id", "designed_at"),
            ("org_unit_id", "confirmed_at"),
            ("org_unit_id", "in_stock_at"),
            ("org_unit_id", "installed_at"),
        )


class OrderItem(Model):
    # One product of the order, placed in a room. The measurer may correct series, model and room.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="items", on_delete=fields.CASCADE
    )
    order_id: int
    product: fields.ForeignKeyNullableRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="order_items", null=True, on_delete=fields.SET_NULL
    )
    product_id: int | None
    series = fields.CharField(max_length=64)
    model = fields.CharField(max_length=64)
    room = fields.CharField(max_length=64, default="")
    quantity = fields.IntField(default=1)  # one OrderPiece per unit (models/pieces.py)
    # Priced lines: the list price the line was offered at (from the price list covering the store on
    # the order's date), the unit price agreed after the line's discount, and quantity x unit price.
    # Null on orders from before prices.
    list_price = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    unit_price = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    amount = fields.DecimalField(max_digits=12, decimal_places=2, null=True)

    class Meta:
        table = "order_item"
        indexes = (("order_id",),)


class Task(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="tasks", on_delete=fields.CASCADE
    )
    order_id: int
    kind = fields.CharEnumField(TaskKind, max_length=16)
    state = fields.CharEnumField(TaskState, max_length=16, default=TaskState.ASSIGNED, db_index=True)
    assignee: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="tasks", null=True, on_delete=fields.RESTRICT
    )
    assignee_id: int | None
    assigned_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="dispatched_tasks", null=True, on_delete=fields.RESTRICT
    )
    assigned_by_id: int | None
    scheduled_date = fields.DateField(db_index=True)
    decline_reason = fields.CharField(max_length=255, default="")
    # A re-measure supersedes the earlier measuring: kept, shown as superseded.
    superseded = fields.BooleanField(default=False)
    done_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "task"
        indexes = (("order_id",), ("assignee_id", "state"))


class Attachment(Model):
    # A stored file: content-addressed by sha256 under storage.path.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="attachments", on_delete=fields.CASCADE
    )
    order_id: int
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    task_id: int | None
    # A service ticket's photo (the report's, or the installer's before and after).
    ticket: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(  # type: ignore[type-arg]
        "models.Ticket", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    ticket_id: int | None
    category = fields.CharEnumField(AttachmentCategory, max_length=32, db_index=True)
    sha256 = fields.CharField(max_length=64, db_index=True)
    content_type = fields.CharField(max_length=100)
    size = fields.IntField()
    filename = fields.CharField(max_length=255, default="")
    has_thumbnail = fields.BooleanField(default=False)
    uploader: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="uploads", null=True, on_delete=fields.SET_NULL
    )
    uploader_id: int | None
    # The WeCom MediaId a chat photo came from: the same media handled twice is stored once.
    media_id = fields.CharField(max_length=255, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # A wrong upload removed (已删除): kept for the timeline, gone from galleries, counts and the zip.
    removed_at = fields.DatetimeField(null=True)
    removed_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="removed_uploads", null=True, on_delete=fields.SET_NULL
    )
    removed_by_id: int | None
    remove_reason = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "attachment"
        indexes = (("order_id", "category"),)


class OrderEvent(Model):
    # The order's timeline: who did what, when.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="events", on_delete=fields.CASCADE
    )
    order_id: int
    actor: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="order_events", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    # An enum field: a kind the code does not know is an error when read, not a line of raw text.
    kind = fields.CharEnumField(EventKind, max_length=32)
    payload: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "order_event"
        indexes = (("order_id",),)
        ordering = ["id"]


class Payment(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="payments", on_delete=fields.CASCADE
    )
    order_id: int
    amount = fields.DecimalField(max_digits=12, decimal_places=2)
    method = fields.CharEnumField(PaymentMethod, max_length=16)
    kind = fields.CharEnumField(PaymentKind, max_length=16)
    recorded_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="payments_recorded", null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None
    note = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # A voided payment (已作废) stays listed and no longer counts as paid; a correction voids it and
    # records the right one.
    voided_at = fields.DatetimeField(null=True)
    voided_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="payments_voided", null=True, on_delete=fields.SET_NULL
    )
    voided_by_id: int | None
    void_reason = fields.CharField(max_length=255, null=True)
    # A payment sales records is 待确认 until finance confirms the money arrived.
    confirmed_at = fields.DatetimeField(null=True)
    confirmed_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="payments_confirmed", null=True, on_delete=fields.SET_NULL
    )
    confirmed_by_id: int | None

    class Meta:
        table = "payment"
        indexes = (("order_id",),)


class Signature(Model):
    # The customer's handwritten signature, given once per order on the signing page.
    id = fields.IntField(primary_key=True)
    order: fields.OneToOneRelation[Order] = fields.OneToOneField(
        "models.Order", related_name="signature", on_delete=fields.CASCADE
    )
    order_id: int
    attachment: fields.ForeignKeyRelation[Attachment] = fields.ForeignKeyField(
        "models.Attachment", related_name="signatures", on_delete=fields.RESTRICT
    )
    attachment_id: int
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=255, default="")
    signed_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "signature"


class Visit(Model):
    # The after-sales call: reached or not, notes, and the customer's scores for each role.
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="visits", on_delete=fields.CASCADE
    )
    order_id: int
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="visits", null=True, on_delete=fields.SET_NULL
    )
    task_id: int | None
    caller: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="visits_made", on_delete=fields.RESTRICT
    )
    caller_id: int
    reached = fields.BooleanField()
    notes = fields.TextField(default="")
    score_sales = fields.IntField(null=True)
    score_measurer = fields.IntField(null=True)
    score_installer = fields.IntField(null=True)
    comment_sales = fields.CharField(max_length=255, default="")
    comment_measurer = fields.CharField(max_length=255, default="")
    comment_installer = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "visit"
        indexes = (("order_id",),)
