"""The lifecycle drawn from its table: a Mermaid state diagram and the table itself, in Markdown.
`relay lifecycle` prints it; docs/lifecycle.md is its output, and a test keeps the two the same."""

from __future__ import annotations

from typing import Any

from models import OrderState
from workflow.lifecycle import Lifecycle, Rule, Scope, Transition
from workflow.machine import Machine


def _who(rule: Rule) -> str:
    if rule.scope == Scope.LINK:
        return "客户（链接）"
    assert rule.role is not None
    return f"{rule.role.person}（{rule.scope.label}）"


def _states(states: tuple[OrderState, ...]) -> str:
    return "、".join(s.value for s in states) if states else "（新建）"


def _job(t: Transition) -> str:
    if t.task is None:
        return ""
    if t.task.create:
        return f"新建{t.task.kind.label}任务"
    before = "/".join(s.value for s in t.task.source)
    return (
        f"{t.task.kind.label}任务 {before} → {t.task.target.value}"
        if t.task.target
        else f"{t.task.kind.label}任务 {before}"
    )


def mermaid(lifecycle: Lifecycle) -> str:
    lines = ["stateDiagram-v2"]
    for state in OrderState:
        lines.append(f"    {state.value}: {state.value} {state.label}")
    for t in lifecycle:
        if t.target is None:
            continue
        for source in t.source or ("[*]",):
            name = source if isinstance(source, str) else source.value
            lines.append(f"    {name} --> {t.target.value}: {t.name}")
    lines += ["    visited --> [*]", "    cancelled --> [*]"]
    return "\n".join(lines)


def document(lifecycle: Lifecycle) -> str:
    rows = [
        "| transition | 按钮 | who may | from | to | job | event | H5 page |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in lifecycle:
        rows.append(
            "| {} | {} | {} | {} | {} | {} | {} | {} |".format(
                t.name + ("（自动）" if t.automatic else "") + (f"（{t.guard_label}）" if t.guard_label else ""),
                t.label,
                "；".join(_who(r) for r in t.who),
                _states(t.source),
                t.target.value if t.target else ("（取消前的状态）" if t.restores else "—"),
                _job(t),
                t.event.value if t.event else "",
                t.page.path if t.page else "",
            )
        )
    return "\n".join(
        [
            f"# The {lifecycle.name} lifecycle",
            "",
            "Generated from `workflow/order_lifecycle.py` by `relay lifecycle`; do not edit by hand.",
            "Every guard, button and refusal about an order comes from this table (see `workflow/lifecycle.py`).",
            "",
            "```mermaid",
            mermaid(lifecycle),
            "```",
            "",
            "Transitions that leave the order where it is (photos, payments, rescheduling, ...) are rows of",
            "the table below but not arrows above.",
            "",
            *rows,
            "",
        ]
    )


def machine_document(machine: Machine[Any]) -> str:
    """Another lifecycle's table (a piece's, a lead's, a ticket's: workflow/machine.py), drawn the same way."""
    arrows = [
        f"    {source.value} --> {t.target.value}: {t.name}"
        for t in machine
        if t.target is not None
        for source in t.source
    ]
    finals = [s for s in machine.states if not any(s in t.source and t.target is not None for t in machine)]
    rows = ["| transition | 按钮 | who may | from | to | event |", "|---|---|---|---|---|---|"]
    for t in machine:
        rows.append(
            "| {} | {} | {} | {} | {} | {} |".format(
                t.name + ("（自动）" if t.automatic else "") + (f"（{t.guard_label}）" if t.guard_label else ""),
                t.label,
                "；".join(_who(r) for r in t.who),
                "、".join(s.value for s in t.source) if t.source else "（新建）",
                t.target.value if t.target is not None else "—",
                t.event.value if t.event else "",
            )
        )
    first = next(iter(machine.states))
    return "\n".join(
        [
            f"# The {machine.name} lifecycle",
            "",
            f"Generated from `{machine.source_file}` by `relay lifecycle`. {machine.intro}",
            "",
            "```mermaid",
            "stateDiagram-v2",
            *(f"    {state.value}: {state.value} {getattr(state, 'label', '')}" for state in machine.states),
            f"    [*] --> {first.value}: {machine.entry}",
            *arrows,
            *(f"    {state.value} --> [*]" for state in finals),
            "```",
            "",
            *rows,
            "",
        ]
    )


def documents() -> str:
    """Every lifecycle's document, the order's first: what `relay lifecycle` prints (docs/lifecycle.md)."""
    from workflow.dealer_lifecycle import DEALER_ORDER, DEALER_PIECE
    from workflow.lead_lifecycle import LEAD
    from workflow.order_lifecycle import ORDER
    from workflow.piece_lifecycle import PIECE
    from workflow.ticket_lifecycle import TICKET

    machines: list[Machine[Any]] = [PIECE, LEAD, TICKET, DEALER_ORDER, DEALER_PIECE]
    return "\n".join([document(ORDER), *(machine_document(m) for m in machines)])
