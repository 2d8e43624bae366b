"""Cards about stock (库存): a level below its safety level, many at once as one digest, and the answer
to 库存 in chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.common import clip, row, text_message, text_notice
from cards.keys import CardKind, CardRef


@dataclass(frozen=True)
class LevelLine:
    """One stocked product in one warehouse, as the cards and pages show it."""

    level_id: int
    product_id: int
    product: str  # the product's label
    warehouse: str
    on_hand: int
    reserved: int
    safety_level: int
    unit: str = "件"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def below_safety(self) -> bool:
        return self.available < self.safety_level


def below_safety_card(to: list[str], line: LevelLine, *, url: str) -> dict[str, Any]:
    """To purchasing: this product's available stock fell below its safety level (once per crossing)."""
    return text_notice(
        to,
        task_id=CardRef(CardKind.STOCK_LOW, line.level_id).new_task_id(),
        title="库存低于安全库存",
        desc=f"{line.warehouse} · 请安排补货",
        emphasis=(f"{line.available}", f"可用（安全库存 {line.safety_level}）"),
        rows=[
            row("产品", line.product),
            row("在库", f"{line.on_hand} {line.unit}"),
            row("已预留", f"{line.reserved} {line.unit}"),
        ],
        url=url,
    )


def below_safety_digest(to: str, lines: list[LevelLine], *, url: str, limit: int = 2048) -> list[dict[str, Any]]:
    """Many levels crossing at once, for one member, as few markdown messages (each within WeCom's 2048
    bytes) naming every one: WeCom drops what a member gets beyond 30 messages a minute."""
    footer = f"[打开库存列表]({url})"

    def head(part: int, parts: int) -> str:
        page = f"（{part}/{parts}）" if parts > 1 else ""
        return f"## 库存预警：{len(lines)} 项低于安全库存{page}"

    texts = [
        clip(f"> {line.product}（{line.warehouse}）可用 {line.available}，安全库存 {line.safety_level}", 300)
        for line in lines
    ]
    room = limit - len(head(99, 99).encode()) - len(footer.encode()) - 2
    chunks: list[list[str]] = [[]]
    size = 0
    for text in texts:
        cost = len(text.encode()) + 1
        if chunks[-1] and size + cost > room:
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += cost
    parts = len(chunks)
    return [
        {"touser": to, "msgtype": "markdown", "markdown": {"content": "\n".join([head(i, parts), *chunk, footer])}}
        for i, chunk in enumerate(chunks, 1)
    ]


def stock_answer(to: str, lines: list[LevelLine], *, query: str, url: str, more: int = 0) -> dict[str, Any]:
    """库存 [型号] in chat: the first few levels found, and the link to the stock page."""
    if not lines:
        return text_message(to, f"没有找到{('“' + query + '”的') if query else ''}库存产品。库存列表：{url}")
    shown = "\n".join(
        f"{'⚠ ' if line.below_safety else ''}{line.product}（{line.warehouse}）可用 {line.available}"
        f" / 在库 {line.on_hand} / 预留 {line.reserved}"
        for line in lines
    )
    tail = f"\n另有 {more} 项，" if more else "\n"
    return text_notice(
        to,
        task_id=CardRef(CardKind.STOCK, 0).new_task_id(),
        title=f"库存：{query}" if query else "库存",
        desc="⚠ 表示低于安全库存",
        quote=shown + (f"{tail}请打开库存列表查看" if more else ""),
        url=url,
        jumps=[("打开库存列表", url)],
    )
