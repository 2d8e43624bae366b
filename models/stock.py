from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.catalog import Product
from models.enums import StockMoveKind
from models.org import OrgUnit, Staff


class Warehouse(Model):
    # A place stock is kept. It belongs to a part of the company: warehouse staff of that unit (or above it)
    # receive, issue and count there.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    org_unit: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="warehouses", on_delete=fields.RESTRICT
    )
    org_unit_id: int
    active = fields.BooleanField(default=True)

    class Meta:
        table = "warehouse"

    def __str__(self) -> str:
        return self.name


class StockLevel(Model):
    # One stocked product in one warehouse. available = on_hand - reserved, never negative: a reservation
    # is one conditional UPDATE (workflow/stock.py), so of two orders for the last unit one wins.

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="stock_levels", on_delete=fields.RESTRICT
    )
    product_id: int
    warehouse: fields.ForeignKeyRelation[Warehouse] = fields.ForeignKeyField(
        "models.Warehouse", related_name="levels", on_delete=fields.RESTRICT
    )
    warehouse_id: int
    on_hand = fields.IntField(default=0)
    reserved = fields.IntField(default=0)
    # Below this many available, purchasing hears of it; 0: no safety level.
    safety_level = fields.IntField(default=0)
    # Set when available fell below safety_level and purchasing was told; cleared when it rises back, so
    # purchasing hears once per crossing.
    below_safety = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stock_level"
        unique_together = (("product", "warehouse"),)
        indexes = (("warehouse_id",),)  # a warehouse's list

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMove(Model):
    # Every change to a stock level, with who and why. `quantity` is the amount moved, positive, its
    # direction given by `kind` (received / returned add to on hand, issued takes from it, reserved /
    # released move reserved); a stock-take (counted) stores the signed difference, counted minus the
    # on hand it found (0: counted and right). on_hand_after / reserved_after are the level after the move.

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="stock_moves", on_delete=fields.RESTRICT
    )
    product_id: int
    warehouse: fields.ForeignKeyRelation[Warehouse] = fields.ForeignKeyField(
        "models.Warehouse", related_name="moves", on_delete=fields.RESTRICT
    )
    warehouse_id: int
    kind = fields.CharEnumField(StockMoveKind, max_length=16)
    quantity = fields.IntField()
    on_hand_after = fields.IntField()
    reserved_after = fields.IntField()
    # Null: a service token or Relay itself.
    actor: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="stock_moves", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    reason = fields.CharField(max_length=255, default="")
    ref = fields.CharField(max_length=64, default="")  # what it was for, e.g. "dealer_order:12"
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stock_move"
        indexes = (("product_id", "warehouse_id", "created_at"), ("ref",))
