from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import StockKind
from models.org import OrgUnit


class Product(Model):
    id = fields.IntField(primary_key=True)
    series = fields.CharField(max_length=64)
    model = fields.CharField(max_length=64)
    name = fields.CharField(max_length=128, default="")
    active = fields.BooleanField(default=True)  # False: retired, kept for the orders that name it
    unit = fields.CharField(max_length=16, default="件", db_default="件")  # 件 / 樘 / 套 / ㎡: what a quantity counts
    # The catalogue's list price (元 per unit); a price list may set its own (workflow/pricing.py).
    list_price = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    # What sales and the measurer check an order against: e.g. {"宽度mm": "800-1600", "玻璃": "8mm 钢化",
    # "颜色": ["亮银", "枪灰"]}. Free keys: each series has its own.
    specs: dict = fields.JSONField(default=dict, db_default="{}")  # type: ignore[assignment]
    # The catalogue photo: a stored file (infra/storage.py, content-addressed), served on H5.
    image_sha256 = fields.CharField(max_length=64, null=True)
    image_content_type = fields.CharField(max_length=100, null=True)
    # Set per series: how many result photos an install needs, and the maintenance cycle.
    install_photo_min = fields.IntField(default=2)
    maintenance_months = fields.IntField(default=12)
    # The factory's lead time for the series (days from release to a finished piece).
    production_days = fields.IntField(default=15, db_default=15)
    # Kept in stock (标准品 / 配件 / 物料: models/stock.py), or null: made to measure for its order.
    stock_kind = fields.CharEnumField(StockKind, max_length=16, null=True)

    class Meta:
        table = "product"
        unique_together = (("series", "model"),)

    @property
    def label(self) -> str:
        return f"{self.series} {self.model}" + (f"（{self.name}）" if self.name else "")


class PriceList(Model):
    """Prices for a part of the company over a time: a store's or a region's (or, null, the whole
    company's); dealers are org units too. workflow/pricing.py picks the list that covers an order."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    org_unit: fields.ForeignKeyNullableRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="price_lists", null=True, on_delete=fields.RESTRICT
    )
    org_unit_id: int | None
    valid_from = fields.DateField()
    valid_to = fields.DateField(null=True)  # inclusive; null: open-ended
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "price_list"
        indexes = (("org_unit_id", "valid_from"),)


class PriceListEntry(Model):
    id = fields.IntField(primary_key=True)
    price_list: fields.ForeignKeyRelation[PriceList] = fields.ForeignKeyField(
        "models.PriceList", related_name="entries", on_delete=fields.CASCADE
    )
    price_list_id: int
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="price_entries", on_delete=fields.CASCADE
    )
    product_id: int
    price = fields.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        table = "price_list_entry"
        unique_together = (("price_list", "product"),)
