"""A dealer order's lifecycle (经销商订货, seed 003), declared once, and the lifecycle of the pieces the factory
makes of it.

Read a row as: *name* (the button's label) may be done by *who* when the order is in *source*; it takes the
order to *target* and writes the order's timeline event. The dealer fills a draft from the catalogue, submits
it at its price list, may take it back to change it (修改) or cancel it until the factory accepts; the
company's dealer managers accept it or return it with a reason, and a returned order is changed and submitted
again or cancelled. Any order may be copied into a new draft at today's prices.

A dealer's rows hold within the member's own dealer unit (and the units below it: a dealer's sub-dealers);
a dealer manager's within the part of the company their unit covers. A member with the dealer role outside a
dealer unit holds none of them.

The pieces of an accepted order's made-to-measure lines move by the production piece's own rows
(workflow/piece_lifecycle.py: 开始生产, 完工, 发货, the factory's or its system's), so the factory moves them with
the same pages, scanner and API; the dealer then receives them (确认收货) and marks them installed or sold.
"""

from __future__ import annotations

from typing import Any

from models import DealerOrder, DealerOrderState, DealerPiece, OrgUnit, PieceState, Role, ServiceToken, Staff, UnitKind
from models.dealers import DealerEventKind
from workflow.errors import NotAllowed
from workflow.lifecycle import Rule, Scope
from workflow.machine import Actor, Machine, Step
from workflow.piece_lifecycle import PIECE, TOKEN_ROLES

D = DealerOrderState
E = DealerEventKind

DEALER = (Rule(Role.DEALER, Scope.UNIT),)
MANAGER = (Rule(Role.DEALER_MANAGER, Scope.UNIT),)
OPEN = (D.DRAFT, D.SUBMITTED, D.RETURNED)  # the factory has not accepted it: the dealer may still change it


async def dealer_scope_holds(rule: Rule, actor: Actor | None, dealer_id: int) -> bool:
    """The dealer unit lies in the member's part of the company; a dealer member's own unit must be a dealer's."""
    if not isinstance(actor, Staff) or rule.scope != Scope.UNIT:
        return False
    mine = await OrgUnit.get(id=actor.org_unit_id)
    if rule.role == Role.DEALER and mine.kind != UnitKind.DEALER:
        return False
    theirs = await OrgUnit.get(id=dealer_id)
    return theirs.path.startswith(mine.path)


class DealerOrderLifecycle(Machine[DealerOrder]):
    """Dealer orders are judged by their dealer unit."""

    model = DealerOrder
    states = DealerOrderState
    source_file = "workflow/dealer_lifecycle.py"
    intro = (
        "A dealer's order to the factory at the dealer's price list (`/h5/dealer`); the company's dealer "
        "managers accept or return it; an accepted order's made-to-measure lines become pieces (below)."
    )
    entry = "create"

    def name_of(self, entity: DealerOrder) -> str:
        return f"订货单 {entity.number}"

    async def holds(self, rule: Rule, actor: Actor | None, entity: DealerOrder, context: Any) -> bool:
        return await dealer_scope_holds(rule, actor, entity.dealer_id)


DEALER_ORDER = DealerOrderLifecycle(
    "dealer_order",
    [
        Step("create", "新建订货单", DEALER, (), D.DRAFT, E.CREATED, automatic=True),
        Step("save", "保存", DEALER, (D.DRAFT,), None, E.SAVED),
        Step("submit", "提交订单", DEALER, (D.DRAFT,), D.SUBMITTED, E.SUBMITTED),
        Step("accept", "接单", MANAGER, (D.SUBMITTED,), D.ACCEPTED, E.ACCEPTED),
        Step("return", "退回", MANAGER, (D.SUBMITTED,), D.RETURNED, E.RETURNED),
        # Before the factory accepts: taken back to a draft to change (and submitted again), or cancelled.
        Step("revise", "修改", DEALER, (D.SUBMITTED, D.RETURNED), D.DRAFT, E.REVISED, corrects=True),
        Step("cancel", "取消订单", DEALER, OPEN, D.CANCELLED, E.CANCELLED, corrects=True),
        Step("copy", "复制订单", DEALER, tuple(D), None, E.COPIED, corrects=True),
    ],
)

# Rows that need words from the member (the reason to return): never a one-tap card button, only the page's form.
NEEDS_INPUT = frozenset({"return"})


class DealerPieceLifecycle(Machine[DealerPiece]):
    """A dealer order's pieces, judged by the order's dealer unit (the order is the context); the factory's
    own system (a service token with `pieces:write`) acts as the factory, as for order pieces."""

    model = DealerPiece
    states = PieceState
    source_file = "workflow/dealer_lifecycle.py"
    intro = (
        "One piece per unit of an accepted dealer order's made-to-measure line. The factory's rows are the "
        "production piece's own (the same Step objects); the dealer receives the piece and marks it installed."
    )
    entry = "accept"

    def name_of(self, entity: DealerPiece) -> str:
        return f"生产编号 {entity.production_number}"

    def roles_held(self, actor: Actor) -> set[Role]:
        if isinstance(actor, ServiceToken):
            return {TOKEN_ROLES[s] for s in actor.scope_list if s in TOKEN_ROLES}
        return super().roles_held(actor)

    async def holds(self, rule: Rule, actor: Actor | None, entity: DealerPiece, context: Any) -> bool:
        if isinstance(actor, ServiceToken):
            return True  # the factory's own system acts across the company
        return await dealer_scope_holds(rule, actor, context.dealer_id)

    def scope_refusal(self, t: Step, actor: Actor | None, entity: DealerPiece, context: Any) -> NotAllowed:
        return NotAllowed(f"订货单 {context.number} 不在你负责的范围内")


P = PieceState

DEALER_PIECE = DealerPieceLifecycle(
    "dealer_piece",
    [
        PIECE["start"],
        PIECE["finish"],
        PIECE["ship"],
        Step("receive", "确认收货", DEALER, (P.SHIPPED, P.FINISHED), P.IN_STOCK, E.PIECE_MOVED),
        Step("install", "已安装/售出", DEALER, (P.IN_STOCK,), P.INSTALLED, E.PIECE_MOVED),
    ],
)
