from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.org import Staff


class ServiceToken(Model):
    # A machine caller of the API (the factory's own system): scopes such as "pieces:write". Only the
    # sha256 of the secret is kept; the secret is shown once, when the token is created.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    scopes = fields.CharField(max_length=255)  # space-separated
    secret_hash = fields.CharField(max_length=64, unique=True)
    created_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="service_tokens", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    # The member the token acts as (the integration's own account, with its roles and part of the company):
    # writes to orders, payments and the catalogue go through the same rules as that member's. None: only
    # what needs no member (pieces, bookings, webhooks).
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="acting_tokens", null=True, on_delete=fields.SET_NULL
    )
    staff_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "service_token"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
