"""News (公告): what admins and managers tell a part of the company, and who got and read it."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.org import Staff


class NewsKind(StrEnum):
    NEWS = "news"  # 新闻: what is new in the company
    PROMOTION = "promotion"  # 促销: a campaign sales and consultants should know of
    PRICE_LIST = "price_list"  # 价目表: a price list, as a file

    @property
    def label(self) -> str:
        return {"news": "新闻", "promotion": "促销", "price_list": "价目表"}[self.value]

    @classmethod
    def parse(cls, value: str) -> NewsKind | None:
        """The kind a form or a query names, or None."""
        try:
            return cls(value)
        except ValueError:
            return None


class News(Model):
    # The audience is fixed when the news is posted: one NewsDelivery row per member it reached. A member who
    # joins later does not see it; the author's counts (audience, delivered, read) never shift under them.

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=64)
    body = fields.TextField(default="")
    kind = fields.CharEnumField(NewsKind, max_length=16, db_index=True)
    author: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="news_posted", on_delete=fields.RESTRICT
    )
    author_id: int
    # The audience as chosen: roles (empty: any role) within the subtrees of these org units.
    roles: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    unit_ids: list[int] = fields.JSONField(default=list)  # type: ignore[assignment]
    # The attached file (infra/storage.py FileStore, content-addressed), if any.
    file_sha256 = fields.CharField(max_length=64, null=True)
    file_name = fields.CharField(max_length=128, default="")
    file_type = fields.CharField(max_length=128, default="")
    file_size = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    withdrawn_at = fields.DatetimeField(null=True)
    withdrawn_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="news_withdrawn", null=True, on_delete=fields.SET_NULL
    )
    withdrawn_by_id: int | None

    class Meta:
        table = "news"


class NewsDelivery(Model):
    # One member the news was addressed to. `card_task_id` is the card that carries it (one card reaches many
    # members): the outbox row with that task_id says when it was delivered. `read_at` is the first opening.

    id = fields.BigIntField(primary_key=True)
    news: fields.ForeignKeyRelation[News] = fields.ForeignKeyField(
        "models.News", related_name="deliveries", on_delete=fields.CASCADE
    )
    news_id: int
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="news_received", on_delete=fields.CASCADE
    )
    staff_id: int
    card_task_id = fields.CharField(max_length=128, db_index=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "news_delivery"
        unique_together = (("news", "staff"),)
        indexes = (("staff_id", "read_at"),)
