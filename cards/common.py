"""Helpers every card builder uses. WeCom counts bytes; customers' names can hold anything."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

SOURCE = {"desc": "接力 · 订单全流程", "desc_color": 0}


def clip(text: str, max_bytes: int, *, multiline: bool = False) -> str:
    """Cut to max_bytes of UTF-8 without splitting a character, marking the cut with an ellipsis.

    White space is folded; a multiline text (a quote area) keeps its line breaks.
    """
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    text = "\n".join(line for line in lines if line) if multiline else " ".join(" ".join(lines).split())
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    cut = data[: max_bytes - 3].decode("utf-8", errors="ignore")
    return cut + "…"


def row(key: str, value: str, *, url: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"keyname": clip(key, 20), "value": clip(value or "—", 60)}
    if url:
        item.update(type=1, url=url)
    return item


def text_message(touser: str | list[str], content: str) -> dict[str, Any]:
    return {"touser": _to(touser), "msgtype": "text", "text": {"content": clip(content, 2048)}}


def _to(touser: str | list[str]) -> str:
    return touser if isinstance(touser, str) else "|".join(dict.fromkeys(touser))


def template_card(touser: str | list[str], card: dict[str, Any]) -> dict[str, Any]:
    return {"touser": _to(touser), "msgtype": "template_card", "template_card": {"source": SOURCE, **card}}


def text_notice(
    touser: str | list[str],
    *,
    task_id: str,
    title: str,
    desc: str = "",
    url: str,
    rows: list[dict[str, Any]] | None = None,
    emphasis: tuple[str, str] | None = None,
    quote: str | None = None,
    jumps: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "text_notice",
        "task_id": task_id,
        "main_title": {"title": clip(title, 36), "desc": clip(desc, 44)},
        "card_action": {"type": 1, "url": url},
    }
    if emphasis:
        card["emphasis_content"] = {"title": clip(emphasis[0], 30), "desc": clip(emphasis[1], 30)}
    if rows:
        card["horizontal_content_list"] = rows[:6]
    if quote:
        card["quote_area"] = {"type": 0, "quote_text": clip(quote, 360, multiline=True)}
    if jumps:
        card["jump_list"] = [{"type": 1, "title": clip(t, 40), "url": u} for t, u in jumps[:3]]
    return template_card(touser, card)


def button_card(
    touser: str | list[str],
    *,
    task_id: str,
    title: str,
    desc: str = "",
    rows: list[dict[str, Any]] | None = None,
    buttons: list[dict[str, Any]],
    url: str | None = None,
    quote: str | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "task_id": task_id,
        "main_title": {"title": clip(title, 36), "desc": clip(desc, 44)},
        "button_list": buttons[:6],
    }
    if rows:
        card["horizontal_content_list"] = rows[:6]
    if url:
        card["card_action"] = {"type": 1, "url": url}
    if quote:
        card["quote_area"] = {"type": 0, "quote_text": clip(quote, 360, multiline=True)}
    return template_card(touser, card)


def callback_button(text: str, key: str, *, style: int = 1) -> dict[str, Any]:
    return {"type": 0, "text": clip(text, 30), "style": style, "key": key}


def url_button(text: str, url: str, *, style: int = 4) -> dict[str, Any]:
    return {"type": 1, "text": clip(text, 30), "style": style, "url": url}


def map_url(address: str) -> str:
    """A map search for the address (Amap's URI API opens its app, or its web map, on the phone)."""
    return "https://uri.amap.com/search?keyword=" + quote(address)
