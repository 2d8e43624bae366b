"""The lifecycle drawn from its table: a Mermaid state diagram and the table itself, in Markdown.
`relay lifecycle` prints it; docs/lifecycle.md is its output, and a test keeps the two the same."""

from __future__ import annotations

from models import OrderState, PieceState
from workflow.lifecycle import Lifecycle, Rule, Scope, Transition
from workflow.piece_lifecycle import PieceLifecycle


def _who(rule: Rule) -> str:
    if rule.scope == Scope.LINK:
        return "客户（签字链接）"
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


def piece_document(lifecycle: PieceLifecycle) -> str:
    """The production piece's table (workflow/piece_lifecycle.py), drawn the same way."""
    arrows = [f"    {source.value} --> {t.target.value}: {t.name}" for t in lifecycle for source in t.source]
    rows = ["| transition | 按钮 | who may | from | to | event |", "|---|---|---|---|---|---|"]
    for t in lifecycle:
        rows.append(
            "| {} | {} | {} | {} | {} | {} |".format(
                t.name + ("（自动）" if t.automatic else ""),
                t.label,
                "；".join(_who(r) for r in t.who),
                "、".join(s.value for s in t.source),
                t.target.value,
                t.event.value if t.event else "",
            )
        )
    return "\n".join(
        [
            f"# The {lifecycle.name} lifecycle",
            "",
            "Generated from `workflow/piece_lifecycle.py` by `relay lifecycle`. One piece per unit of an order",
            "line, released to the factory with its production number; a service token with `pieces:write`",
            "acts as the factory.",
            "",
            "```mermaid",
            "stateDiagram-v2",
            *(f"    {state.value}: {state.value} {state.label}" for state in PieceState),
            "    [*] --> queued: release",
            *arrows,
            "    installed --> [*]",
            "```",
            "",
            *rows,
            "",
        ]
    )
