"""A dealer's orders (经销商订货, seed 003): what a dealer unit orders from the catalogue at its own price list,
its lines, the pieces the factory makes of its made-to-measure lines, and its timeline."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.catalog import Product
from models.enums import PieceState
from models.org import OrgUnit, Staff
from models.stock import Warehouse


class DealerOrderKind(StrEnum):
    """The seed's order types: new goods, a replacement (补换货) or marketing materials (物料)."""

    NEW = "new"
    REPLACEMENT = "replacement"
    MARKETING = "marketing"

    @property
    def label(self) -> str:
        return {"new": "新订单", "replacement": "补换货", "marketing": "物料"}[self.value]


class DealerOrderState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "draft": "草稿",
            "submitted": "待接单",
            "accepted": "已接单",
            "returned": "已退回",
            "cancelled": "已取消",
        }[self.value]


class DealerEventKind(StrEnum):
    """What a dealer order's timeline records (the dealer lifecycle's rows, and its pieces' moves)."""

    CREATED = "created"
    SAVED = "saved"
    SUBMITTED = "submitted"
    REVISED = "revised"
    CANCELLED = "cancelled"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    COPIED = "copied"
    PIECE_MOVED = "piece_moved"

    @property
    def label(self) -> str:
        return {
            "created": "新建订货单",
            "saved": "修改明细",
            "submitted": "提交订货单",
            "revised": "撤回修改",
            "cancelled": "取消订货单",
            "accepted": "工厂接单",
            "returned": "退回订货单",
            "copied": "复制为新订货单",
            "piece_moved": "产品进度",
        }[self.value]


class DealerOrder(Model):
    # One order of a dealer unit to the factory. Its lifecycle is workflow/dealer_lifecycle.py; the amount is
    # the lines' at the dealer's prices, fixed when it is submitted.

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)  # D2612-0001: D + yymm + the month's sequence
    dealer: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="dealer_orders", on_delete=fields.RESTRICT
    )
    dealer_id: int
    created_by: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="dealer_orders", on_delete=fields.RESTRICT
    )
    created_by_id: int
    kind = fields.CharEnumField(DealerOrderKind, max_length=16, default=DealerOrderKind.NEW)
    state = fields.CharEnumField(DealerOrderState, max_length=16, default=DealerOrderState.DRAFT, db_index=True)
    state_since = fields.DatetimeField(null=True)
    amount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    note = fields.CharField(max_length=500, default="")  # the dealer's remark to the factory
    return_reason = fields.CharField(max_length=500, default="")
    # The factory's number for it (its production order), given at acceptance: the seed's 工厂订单号.
    factory_number = fields.CharField(max_length=32, null=True, unique=True)
    # Where its stocked lines are held while it is submitted (cleared when they are given back), and where they
    # were issued from once it is accepted.
    warehouse: fields.ForeignKeyNullableRelation[Warehouse] = fields.ForeignKeyField(
        "models.Warehouse", related_name="dealer_orders", null=True, on_delete=fields.RESTRICT
    )
    warehouse_id: int | None
    copied_from: fields.ForeignKeyNullableRelation[DealerOrder] = fields.ForeignKeyField(
        "models.DealerOrder", related_name="copies", null=True, on_delete=fields.SET_NULL
    )
    copied_from_id: int | None
    submitted_at = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    accepted_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="dealer_orders_accepted", null=True, on_delete=fields.SET_NULL
    )
    accepted_by_id: int | None
    returned_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "dealer_order"
        indexes = (("dealer_id", "state"),)


class DealerOrderLine(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[DealerOrder] = fields.ForeignKeyField(
        "models.DealerOrder", related_name="lines", on_delete=fields.CASCADE
    )
    order_id: int
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="dealer_lines", on_delete=fields.RESTRICT
    )
    product_id: int
    quantity = fields.IntField()
    # The dealer's price list's price when the order was submitted (a draft shows today's).
    unit_price = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    price_source = fields.CharField(max_length=64, default="")  # the price list's name

    class Meta:
        table = "dealer_order_line"
        unique_together = (("order", "product"),)


class DealerPiece(Model):
    # One unit of a made-to-measure line of an accepted dealer order: made and moved by the factory with the
    # same rows as a customer order's piece (workflow/dealer_lifecycle.py DEALER_PIECE), and received by the
    # dealer. Its production number shares the factory's pages, scanner and API with order pieces.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[DealerOrder] = fields.ForeignKeyField(
        "models.DealerOrder", related_name="pieces", on_delete=fields.CASCADE
    )
    order_id: int
    line: fields.ForeignKeyRelation[DealerOrderLine] = fields.ForeignKeyField(
        "models.DealerOrderLine", related_name="pieces", on_delete=fields.CASCADE
    )
    line_id: int
    seq = fields.IntField()
    production_number = fields.CharField(max_length=64, unique=True)
    state = fields.CharEnumField(PieceState, max_length=16, default=PieceState.QUEUED)
    state_since = fields.DatetimeField(null=True)
    expected_date = fields.DateField(null=True)
    finished_at = fields.DatetimeField(null=True)  # the lead time to finished pieces (the dealers' KPIs)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "dealer_piece"
        unique_together = (("line", "seq"),)
        indexes = (("order_id", "state"),)


class DealerOrderEvent(Model):
    # A dealer order's timeline: who did what, when (the row's label and what it carries).

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[DealerOrder] = fields.ForeignKeyField(
        "models.DealerOrder", related_name="events", on_delete=fields.CASCADE
    )
    order_id: int
    actor: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="dealer_events", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    kind = fields.CharEnumField(DealerEventKind, max_length=16)
    payload: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "dealer_order_event"
        indexes = (("order_id", "at"),)
