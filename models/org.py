from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.enums import Role


class UnitKind(StrEnum):
    """A unit of the company's own (a region, a store) or a dealer's (经销商): a dealer unit's staff order
    from the factory at its price list and see only their unit's dealer orders (workflow/dealers.py)."""

    OWN = "own"
    DEALER = "dealer"

    @property
    def label(self) -> str:
        return {"own": "公司组织", "dealer": "经销商"}[self.value]


class OrgUnit(Model):
    # A node of the company tree (company > region > store). `path` is "/1/4/9/" so a subtree is a prefix.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    parent: fields.ForeignKeyNullableRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    path = fields.CharField(max_length=255, default="", db_index=True)
    # A store's address, as customers read it (the booking SMS, the public booking page).
    address = fields.CharField(max_length=255, default="", db_default="")
    # The WeCom department this unit is (directory sync, workflow/directory.py); None: Relay's own unit.
    wecom_department_id = fields.IntField(null=True, unique=True)
    # False: closed (by an admin, or its department deleted in WeCom). Units are never deleted: orders,
    # staff and price lists name them.
    active = fields.BooleanField(default=True, db_default=True)
    kind = fields.CharEnumField(UnitKind, max_length=16, default=UnitKind.OWN, db_default=UnitKind.OWN.value)

    class Meta:
        table = "org_unit"
        unique_together = (("parent", "name"),)

    def __str__(self) -> str:
        return self.name


class Staff(Model):
    id = fields.IntField(primary_key=True)
    userid = fields.CharField(max_length=64, unique=True)  # the WeCom userid
    name = fields.CharField(max_length=64)
    roles: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    org_unit: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="staff", on_delete=fields.RESTRICT
    )
    org_unit_id: int
    active = fields.BooleanField(default=True)
    # When WeCom's directory said the member left (never deleted: their orders and history name them);
    # None for a member deactivated by an admin, whom a directory sync leaves inactive.
    left_at = fields.DatetimeField(null=True)
    # The roles that came from WeCom tags ([directory] tag_roles): a sync takes these away when the tag
    # goes, and never a role an admin gave.
    tag_roles: list[str] = fields.JSONField(default=list, db_default="[]")  # type: ignore[assignment]
    # Average after-sales score (1-5); None until someone has scored them.
    score = fields.FloatField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff"

    def has_role(self, role: Role | str) -> bool:
        return Role(role).value in self.roles

    @property
    def role_labels(self) -> str:
        return " / ".join(Role(r).label for r in self.roles if r in Role.__members__.values())

    def __str__(self) -> str:
        return self.name
