from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import PieceState
from models.orders import Order, OrderItem
from models.org import Staff


class OrderPiece(Model):
    # One unit of an order line: an item of quantity 3 is three pieces, each made, numbered, received
    # and fitted on its own. The factory's production number is unique across the company.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="pieces", on_delete=fields.CASCADE
    )
    order_id: int
    item: fields.ForeignKeyRelation[OrderItem] = fields.ForeignKeyField(
        "models.OrderItem", related_name="pieces", on_delete=fields.CASCADE
    )
    item_id: int
    seq = fields.IntField()  # 1..quantity within its item: "第 2/3 件"
    production_number = fields.CharField(max_length=64, null=True, unique=True)
    state = fields.CharEnumField(PieceState, max_length=16, default=PieceState.QUEUED)
    state_since = fields.DatetimeField(null=True)
    # When the factory expects the piece finished (set at release from the series' lead time; the
    # factory may revise it). Late against it: an alert.
    expected_date = fields.DateField(null=True)
    # Goods-in: when the piece reached the warehouse, and who received it.
    arrived_at = fields.DatetimeField(null=True)
    received_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="received_pieces", null=True, on_delete=fields.SET_NULL
    )
    received_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "order_piece"
        unique_together = (("item", "seq"),)
        indexes = (("order_id", "state"),)
