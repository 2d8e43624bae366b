"""The company tree's one structural rule: a unit's path is its parent's path plus its own id, so a
subtree is a path prefix (scope checks, managers' numbers). Moving a unit moves its subtree's paths."""

from __future__ import annotations

from models import OrgUnit


async def rehome_unit(unit: OrgUnit, parent: OrgUnit | None) -> None:
    """Put the unit under `parent`, its whole subtree's paths with it. Inside the caller's transaction."""
    old = unit.path
    new = (parent.path if parent else "/") + f"{unit.id}/"
    unit.parent_id = parent.id if parent else None  # type: ignore[attr-defined]
    unit.path = new
    await unit.save(update_fields=["parent_id", "path"])
    if old and old != new:
        for below in await OrgUnit.filter(path__startswith=old).exclude(id=unit.id):
            below.path = new + below.path.removeprefix(old)
            await below.save(update_fields=["path"])
