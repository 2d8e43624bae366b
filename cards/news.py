"""Cards of news (公告): the item itself to each member of its audience, and the list 公告 answers in chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.common import button_card, clip, row, text_message, text_notice, url_button
from cards.keys import CardKind, CardRef
from infra.runtime import Links

ARCHIVE_PAGE = "/h5/news"
EXCERPT_BYTES = 150  # of the body on the card: the page has the rest


@dataclass(frozen=True)
class NewsView:
    id: int
    title: str
    kind_label: str  # 新闻 / 促销 / 价目表
    body: str
    author_name: str
    posted: str  # 12-02 16:20
    file_name: str = ""

    @property
    def excerpt(self) -> str:
        return clip(self.body, EXCERPT_BYTES, multiline=True)


def news_page(links: Links, news_id: int) -> str:
    return links.oauth(f"{ARCHIVE_PAGE}/{news_id}")


def news_card(to: list[str], news: NewsView, *, links: Links) -> dict[str, Any]:
    """One card for many members (WeCom takes up to 1000 in touser). 查看 opens the page, which records the
    read; a withdrawn item's button is replaced with 已撤回, and its page says so."""
    rows = [row("类型", news.kind_label), row("发布人", news.author_name), row("时间", news.posted)]
    if news.file_name:
        rows.append(row("附件", news.file_name))
    url = news_page(links, news.id)
    return button_card(
        to,
        task_id=CardRef(CardKind.NEWS, news.id).new_task_id(),
        title=f"【{news.kind_label}】{news.title}",
        desc=f"{news.author_name} 发布的公告",
        rows=rows,
        quote=news.excerpt or None,
        buttons=[url_button("查看", url, style=1)],
        url=url,
    )


def news_list_card(
    userid: str, staff_id: int, latest: list[tuple[NewsView, bool]], *, unread: int, links: Links
) -> dict[str, Any]:
    """The member's latest news, unread first (each with whether it is unread), and the archive."""
    archive = links.oauth(ARCHIVE_PAGE)
    if not latest:
        return text_message(userid, f"暂时没有发给你的公告。以后的公告都在这里：{archive}")
    lines = [f"{'● ' if fresh else ''}【{n.kind_label}】{clip(n.title, 40)} · {n.posted}" for n, fresh in latest]
    return text_notice(
        userid,
        task_id=CardRef(CardKind.NEWS_LIST, staff_id).new_task_id(),
        title="公告",
        desc=f"{unread} 条未读" if unread else "没有未读公告",
        quote="\n".join(lines),
        url=archive,
        jumps=[(f"{n.title}", news_page(links, n.id)) for n, _ in latest[:2]] + [("全部公告", archive)],
    )
