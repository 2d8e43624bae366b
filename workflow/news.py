"""News (公告): admins and managers tell a part of the company (roles within org units) what is new, a
promotion or a price list with its file, instead of a mass mailing (seed 003). Each member of the audience gets a
card; opening it records the read; the author sees who has read it and who has not, and may withdraw it.

The audience is resolved when the item is posted, one NewsDelivery row per member: it is what the archive
shows a member, what the page and the file check, and what the receipts count. Delivery is the outbox's
(paced per member under WeCom's limits): a member's delivery time is the send of the card that carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from cards.news import NewsView
from infra.storage import StoredFile
from infra.timeutil import fmt_time, utcnow
from models import AuditAction, MessageState, News, NewsDelivery, NewsKind, OrgUnit, OutboxMessage, Role, Staff
from workflow import attachments, audit, notify
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound, WorkflowError
from workflow.scope import require_role

MAX_TITLE = 64
MAX_BODY = 5000
MAX_FILE_NAME = 128
ARCHIVE_LIMIT = 100
POSTERS = (Role.ADMIN, Role.MANAGER)


class Withdrawn(WorkflowError):
    """A reader opens news its author has withdrawn."""

    status = 410


@dataclass(frozen=True)
class NewsInput:
    title: str
    body: str
    kind: str
    roles: list[str]
    unit_ids: list[int]


@dataclass(frozen=True)
class Audience:
    kind: NewsKind
    roles: list[str]
    units: list[OrgUnit]


def may_post(staff: Staff) -> bool:
    return any(staff.has_role(r) for r in POSTERS)


def may_manage(staff: Staff, news: News) -> bool:
    """The author and admins see the receipts and may withdraw."""
    return news.author_id == staff.id or staff.has_role(Role.ADMIN)


async def units_for(author: Staff) -> list[OrgUnit]:
    """The units an author may address, the tree in order: an admin any, a manager their own part of it."""
    if author.has_role(Role.ADMIN):
        return await OrgUnit.all().order_by("path")
    own = await OrgUnit.get(id=author.org_unit_id)
    return await OrgUnit.filter(path__startswith=own.path).order_by("path")


async def check_news(author: Staff, form: NewsInput, *, has_file: bool) -> Audience:
    """Every refusal at once (before any file is stored): a title, a kind, an audience within the author's
    part of the company; a price list comes with its file."""
    require_role(author, *POSTERS)
    errors: dict[str, str] = {}
    if not form.title:
        errors["title"] = "请填写标题"
    elif len(form.title) > MAX_TITLE:
        errors["title"] = f"标题请在 {MAX_TITLE} 字以内"
    if len(form.body) > MAX_BODY:
        errors["body"] = f"正文请在 {MAX_BODY} 字以内"
    kind = NewsKind.parse(form.kind)
    if kind is None:
        errors["kind"] = "请选择公告类型"
    elif kind == NewsKind.PRICE_LIST and not has_file:
        errors["file"] = "价目表请附上文件（PDF 或 Excel）"
    unknown = [r for r in form.roles if r not in Role._value2member_map_]
    if unknown:
        errors["roles"] = "未知的角色"
    units = await OrgUnit.filter(id__in=form.unit_ids) if form.unit_ids else []
    allowed = {u.id for u in await units_for(author)}
    if not form.unit_ids:
        errors["units"] = "请选择接收的部门（选最上级即全公司）"
    elif len(units) != len(set(form.unit_ids)):
        errors["units"] = "部门不存在"
    elif outside := [u.name for u in units if u.id not in allowed]:
        errors["units"] = f"只能发给你管理范围内的部门，{'、'.join(outside)}不在其中"
    if errors:
        raise Invalid.several(errors)
    assert kind is not None
    return Audience(kind=kind, roles=sorted(set(form.roles)), units=units)


async def audience_of(roles: list[str], units: list[OrgUnit]) -> list[Staff]:
    """Active members in one of the units' subtrees holding one of the roles (any role when none is named)."""
    found: dict[int, Staff] = {}
    for unit in units:
        for member in await Staff.filter(active=True, org_unit__path__startswith=unit.path).order_by("id"):
            if not roles or any(member.has_role(r) for r in roles):
                found[member.id] = member
    return sorted(found.values(), key=lambda m: m.id)


def news_view(news: News, author: Staff) -> NewsView:
    return NewsView(
        id=news.id,
        title=news.title,
        kind_label=news.kind.label,
        body=news.body,
        author_name=author.name,
        posted=fmt_time(news.created_at),
        file_name=news.file_name,
    )


async def post_news(*, author: Staff, form: NewsInput, file: StoredFile | None = None, file_name: str = "") -> News:
    """Post to the audience: the item, a delivery row per member and the cards, in one transaction."""
    checked = await check_news(author, form, has_file=file is not None)
    members = await audience_of(checked.roles, checked.units)
    if not members:
        raise Invalid("所选部门和角色下没有成员，请调整接收范围", "units")
    async with in_transaction():
        news = await News.create(
            title=form.title,
            body=form.body,
            kind=checked.kind,
            author=author,
            roles=checked.roles,
            unit_ids=[u.id for u in checked.units],
            file_sha256=file.sha256 if file else None,
            # The end is kept: the extension is what the reader's phone opens the file by.
            file_name=attachments.file_name(file_name, checked.kind.label)[-MAX_FILE_NAME:] if file else "",
            file_type=file.content_type if file else "",
            file_size=file.size if file else 0,
        )
        carried = await notify.news_posted(news_view(news, author), [m.userid for m in members])
        # One INSERT per batch rather than a statement per member: thousands of members are a few statements.
        await NewsDelivery.bulk_create(
            [NewsDelivery(news_id=news.id, staff_id=m.id, card_task_id=carried[m.userid]) for m in members],
            batch_size=500,
        )
    await audit.record(AuditAction.NEWS_POST, actor=author, news=news.id, title=news.title, audience=len(members))
    return news


async def withdraw_news(*, actor: Staff, news: News, ip: str = "") -> News:
    if not may_manage(actor, news):
        raise NotAllowed("只有发布人或管理员可以撤回公告")
    async with in_transaction():
        now = utcnow()
        changed = await News.filter(id=news.id, withdrawn_at__isnull=True).update(withdrawn_at=now, withdrawn_by=actor)
        if not changed:
            raise Conflict("这条公告已经撤回了", "已撤回")
        await notify.news_withdrawn(news.id)
    await audit.record(AuditAction.NEWS_WITHDRAW, actor=actor, ip=ip, news=news.id, title=news.title)
    await news.refresh_from_db()
    return news


async def news_for(viewer: Staff, news_id: int) -> News:
    """The item, if it was addressed to the viewer (and is not withdrawn) or the viewer manages it. Another's
    news is reported as unknown: its title is not the viewer's to learn."""
    news = await News.get_or_none(id=news_id)
    if news is None:
        raise NotFound("公告不存在")
    if may_manage(viewer, news):
        return news
    if not await NewsDelivery.filter(news_id=news.id, staff_id=viewer.id).exists():
        raise NotFound("公告不存在")
    if news.withdrawn_at is not None:
        raise Withdrawn(f"这条公告已于 {fmt_time(news.withdrawn_at)} 撤回")
    return news


async def mark_read(viewer: Staff, news: News) -> None:
    """The first opening is the read (a later one keeps it)."""
    await NewsDelivery.filter(news_id=news.id, staff_id=viewer.id, read_at__isnull=True).update(read_at=utcnow())


@dataclass(frozen=True)
class ArchiveLine:
    news: News
    unread: bool
    withdrawn: bool = False


async def received(viewer: Staff, *, kind: NewsKind | None = None, limit: int = ARCHIVE_LIMIT) -> list[ArchiveLine]:
    """What was addressed to the viewer and is not withdrawn, newest first."""
    query = NewsDelivery.filter(staff_id=viewer.id, news__withdrawn_at__isnull=True)
    if kind is not None:
        query = query.filter(news__kind=kind)
    rows = await query.order_by("-news__created_at", "-news_id").limit(limit).prefetch_related("news__author")
    return [ArchiveLine(news=r.news, unread=r.read_at is None) for r in rows]


async def posted(viewer: Staff, *, kind: NewsKind | None = None, limit: int = ARCHIVE_LIMIT) -> list[ArchiveLine]:
    """What the viewer posted (an admin: everyone's), withdrawn ones too, newest first."""
    if not may_post(viewer):
        return []
    query = News.all() if viewer.has_role(Role.ADMIN) else News.filter(author_id=viewer.id)
    if kind is not None:
        query = query.filter(kind=kind)
    rows = await query.order_by("-created_at", "-id").limit(limit).prefetch_related("author")
    return [ArchiveLine(news=n, unread=False, withdrawn=n.withdrawn_at is not None) for n in rows]


async def latest_for(viewer: Staff, *, limit: int = 5) -> tuple[list[ArchiveLine], int]:
    """For 公告 in chat: the latest news for the member, unread first; and how many are unread."""
    lines = await received(viewer, limit=30)
    unread = sum(line.unread for line in lines)
    lines.sort(key=lambda line: not line.unread)  # stable: newest first within each
    return lines[:limit], unread


@dataclass(frozen=True)
class Receiver:
    name: str
    unit: str
    delivered_at: datetime | None
    read_at: datetime | None


@dataclass(frozen=True)
class Receipts:
    audience: int
    delivered: int
    read: list[Receiver]
    unread: list[Receiver]


async def receipts(viewer: Staff, news: News) -> Receipts:
    """Who got the item and who has read it, for its author and admins. Delivered is when the outbox sent the
    card that carries it to the member (WeCom accepted it)."""
    if not may_manage(viewer, news):
        raise NotAllowed("只有发布人或管理员可以查看阅读情况")
    rows = await NewsDelivery.filter(news_id=news.id).prefetch_related("staff__org_unit")
    sent = dict(
        await OutboxMessage.filter(
            card_task_id__in=list({r.card_task_id for r in rows}), state=MessageState.DONE
        ).values_list("card_task_id", "sent_at")
    )
    people = [
        Receiver(
            name=r.staff.name,
            unit=r.staff.org_unit.name,
            delivered_at=sent.get(r.card_task_id),
            read_at=r.read_at,
        )
        for r in rows
    ]
    read = sorted((p for p in people if p.read_at), key=lambda p: p.read_at or utcnow())
    unread = sorted((p for p in people if not p.read_at), key=lambda p: (p.unit, p.name))
    return Receipts(
        audience=len(people), delivered=sum(p.delivered_at is not None for p in people), read=read, unread=unread
    )


async def audience_text(news: News) -> str:
    """The audience as chosen, in words: 上海徐汇店 · 销售、销售顾问."""
    units = await OrgUnit.filter(id__in=news.unit_ids).order_by("path")
    roles = "、".join(Role(r).label for r in news.roles if r in Role._value2member_map_) or "所有人"
    return f"{'、'.join(u.name for u in units)} · {roles}"
