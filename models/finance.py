"""Invoices (发票) finance issues against an order (003: invoices issued in the system)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.orders import Order
from models.org import Staff


class Invoice(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="invoices", on_delete=fields.CASCADE
    )
    order_id: int
    number = fields.CharField(max_length=32, unique=True)  # the invoice's own number (发票号码)
    amount = fields.DecimalField(max_digits=12, decimal_places=2)
    issued_on = fields.DateField()
    buyer_tax_id = fields.CharField(max_length=20)  # 纳税人识别号: 15, 18 or 20 digits and capital letters
    # The scanned or downloaded invoice (PDF or image), stored like other files; optional.
    file_sha256 = fields.CharField(max_length=64, null=True)
    file_type = fields.CharField(max_length=100, null=True)
    filename = fields.CharField(max_length=255, default="")
    issued_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="invoices_issued", null=True, on_delete=fields.SET_NULL
    )
    issued_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    # An invoice issued by mistake (作废): kept, listed as voided, no longer counts as invoiced.
    voided_at = fields.DatetimeField(null=True)
    void_reason = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "invoice"
        indexes = (("order_id",),)
