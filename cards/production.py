"""Production cards: an order released to the factory, a piece with its next step, a batch's outcome."""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.common import button_card, callback_button, row, text_notice
from cards.keys import CardKind, CardRef, DealerPieceStepKey, PieceStepKey
from infra.runtime import Links


def released_card(
    to: list[str],
    *,
    order_id: int,
    production_order_number: str,
    order_number: str,
    pieces: list[str],
    expected: date | None,
    links: Links,
) -> dict[str, Any]:
    page = links.oauth("/h5/production", order=order_number)
    return text_notice(
        to,
        task_id=CardRef(CardKind.RELEASED, order_id).new_task_id(),
        title="新生产单",
        desc=f"生产单号 {production_order_number}",
        rows=[row("订单", order_number), row("件数", f"{len(pieces)} 件")]
        + ([row("预计完工", f"{expected:%Y-%m-%d}")] if expected else []),
        quote="\n".join(pieces),
        url=page,
        jumps=[("生产进度", page)],
    )


def piece_card(
    userid: str,
    *,
    piece_id: int,
    production_number: str,
    label: str,
    order_number: str,
    state: str,
    expected: date | None,
    steps: list[tuple[str, str]],
    links: Links,
    dealer: str = "",
) -> dict[str, Any]:
    """One piece after a scan or a typed number: where it is, and the step(s) it may take now. A dealer
    order's piece names its dealer (and its buttons move it by the dealer piece's table)."""
    rows = [row("订单", order_number), row("产品", label), row("状态", state)]
    if dealer:
        rows.insert(0, row("经销商", dealer))
    key = DealerPieceStepKey if dealer else PieceStepKey
    kind = CardKind.DEALER_PIECE if dealer else CardKind.PIECE
    if expected:
        rows.append(row("预计完工", f"{expected:%Y-%m-%d}"))
    page = links.oauth("/h5/production", order=order_number)
    if not steps:
        return text_notice(
            userid,
            task_id=CardRef(kind, piece_id).new_task_id(),
            title=f"生产编号 {production_number}",
            desc=state,
            rows=rows,
            url=page,
        )
    return button_card(
        userid,
        task_id=CardRef(kind, piece_id).new_task_id(),
        title=f"生产编号 {production_number}",
        desc=state,
        rows=rows,
        buttons=[callback_button(text, key(piece_id, name).pack()) for name, text in steps],
        url=page,
    )
