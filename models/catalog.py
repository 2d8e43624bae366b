from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Product(Model):
    id = fields.IntField(primary_key=True)
    series = fields.CharField(max_length=64)
    model = fields.CharField(max_length=64)
    name = fields.CharField(max_length=128, default="")
    active = fields.BooleanField(default=True)  # False: retired, kept for the orders that name it
    unit = fields.CharField(max_length=16, default="件")  # 件 / 樘 / 套 / ㎡: what a quantity counts
    # The catalogue's list price (元 per unit); a price list may set its own (workflow/pricing.py).
    list_price = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    # Set per series: how many result photos an install needs, and the maintenance cycle.
    install_photo_min = fields.IntField(default=2)
    maintenance_months = fields.IntField(default=12)
    # The factory's lead time for the series (days from release to a finished piece).
    production_days = fields.IntField(default=15, db_default=15)

    class Meta:
        table = "product"
        unique_together = (("series", "model"),)

    @property
    def label(self) -> str:
        return f"{self.series} {self.model}" + (f"（{self.name}）" if self.name else "")
