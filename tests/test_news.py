"""News (公告) through the emulator and the H5 pages: posted by a manager to roles in their units, a card to
each member of the audience and to nobody else, the page and the file refused to anyone outside it, read
receipts for the author, 撤回, 公告 in chat, the refusals that send nothing, and a large audience delivered
under WeCom's per-member limit without a drop."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import xlsxwriter

from bot.pacing import MemoryPacer
from infra.bucket import Disk
from infra.storage import FileStore, RejectedFile
from infra.timeutil import utcnow
from models import AuditAction, AuditEntry, MessageState, News, NewsDelivery, OrgUnit, OutboxMessage, Role, Staff
from tests.bot.test_outbox_faults import queue_text
from tests.support import World, jpeg
from tests.test_measure_slice import csrf
from webviews.auth import csrf_token
from workflow.admin import ensure_unit
from workflow.notify import NEWS_RECIPIENTS_PER_CARD

XUHUI_SALES = ("zhangxiaoshou", "guwen", "linyue")  # sales (and consultants) of 上海徐汇店
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def message_of(html: str) -> str:
    match = re.search(r'id="(?:form-error|message)">(?:<p>)?([^<]*)<', html)
    return match.group(1) if match else ""


def price_sheet() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("价目表")
    sheet.write_row(0, 0, ["型号", "单价"])
    sheet.write_row(1, 0, ["LS-8201", 3680])
    book.close()
    return out.getvalue()


def archive_of(**parts: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name.replace("__", "/"), data)
    return out.getvalue()


async def test_a_file_to_hand_out_is_judged_by_its_content(tmp_path: Path) -> None:
    store = FileStore(Disk(tmp_path), max_image_bytes=1 << 20, max_file_bytes=1 << 20)
    docx = archive_of(**{"[Content_Types].xml": b"<Types/>", "word__document.xml": b"<w:document/>"})
    for data, kind in (
        (price_sheet(), XLSX),
        (docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (b"%PDF-1.7\n%...", "application/pdf"),
        (jpeg(), "image/jpeg"),
    ):
        assert (await store.put_publication(data)).content_type == kind
    not_office = archive_of(**{"readme.txt": b"just a zip"})
    for refused in (not_office, b"PK\x03\x04 not really a zip", "型号,单价".encode(), b"x" * (1 << 20 | 1)):
        with pytest.raises(RejectedFile):
            await store.put_publication(refused)


async def unit_id(name: str) -> int:
    return (await OrgUnit.get(name=name)).id


async def post(
    world: World,
    author: str,
    *,
    title: str = "双十二促销",
    kind: str = "promotion",
    body: str = "12 月 12 日起淋浴房全系 9 折，到店客户加送五金套装。",
    units: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
    file: tuple[str, bytes] | None = None,
) -> tuple[int, str, str]:
    """Post through the H5 form as `author`: the status, where it went (the receipts page) and the page."""
    async with world.browser_session(author) as http:
        async with http.get(f"{world.relay_url}/h5/news/new") as resp:
            assert resp.status == 200, await resp.text()
            token = csrf(await resp.text())
        form = aiohttp.FormData()
        fields: list[tuple[str, Any]] = [("csrf", token), ("title", title), ("kind", kind), ("body", body)]
        fields += [("units", str(await unit_id(u))) for u in units] + [("roles", r) for r in roles]
        for name, value in fields:
            form.add_field(name, value)
        if file is not None:
            form.add_field("file", file[1], filename=file[0], content_type="application/octet-stream")
        async with http.post(f"{world.relay_url}/h5/news/new", data=form) as resp:
            return resp.status, str(resp.url), await resp.text()


async def news_cards(world: World, userid: str) -> list[Any]:
    return [c for c in world.emu.cards(userid) if c.task_id.startswith("news-")]


async def get(world: World, userid: str, path: str) -> tuple[int, str, dict[str, str]]:
    async with world.browser_session(userid) as http, http.get(f"{world.relay_url}{path}") as resp:
        body = await resp.read()
        text = body.decode(errors="replace") if resp.content_type == "text/html" else ""
        return resp.status, text, dict(resp.headers)


async def test_a_promotion_reaches_its_audience_and_only_it(world: World) -> None:
    status, url, html = await post(world, "chendianzhang", units=("上海徐汇店",), roles=("sales", "consultant"))
    assert status == 200 and url.endswith("/receipts?done=posted"), message_of(html)
    assert "公告已发布" in html
    await world.settle()
    news = await News.get(title="双十二促销")

    for member in XUHUI_SALES:
        [card] = await news_cards(world, member)
        assert card.title == "【促销】双十二促销"
        assert card.fields["发布人"] == "陈店长"
        assert "9 折" in card.card["quote_area"]["quote_text"]
        assert card.button_texts == ["查看"]
        assert f"/h5/news/{news.id}" in card.buttons[0].url
    # Sales of another store, and the store's measurer, hear nothing.
    for outsider in ("lixiaoshou", "sunceliang", "wangzong"):
        assert await news_cards(world, outsider) == []
    # One card carries it to all three; it went as a push.
    [row] = await OutboxMessage.filter(card_task_id__startswith=f"news-{news.id}-")
    assert sorted(row.payload["touser"].split("|")) == sorted(XUHUI_SALES)
    assert row.priority == 2
    entry = await AuditEntry.get(action=AuditAction.NEWS_POST)
    assert entry.actor_userid == "chendianzhang" and entry.detail["audience"] == 3

    # Someone outside the audience is refused the page (as if it did not exist) and the archive omits it.
    status, html, _ = await get(world, "lixiaoshou", f"/h5/news/{news.id}")
    assert status == 404 and message_of(html) == "公告不存在"
    _, archive, _ = await get(world, "lixiaoshou", "/h5/news")
    assert "双十二促销" not in archive and "暂时没有公告" in archive
    _, archive, _ = await get(world, "guwen", "/h5/news")
    assert "双十二促销" in archive and "data-unread" in archive
    _, price_lists, _ = await get(world, "guwen", "/h5/news?kind=price_list")
    assert "双十二促销" not in price_lists


async def test_a_price_list_file_is_served_to_its_audience_only(world: World) -> None:
    sheet = price_sheet()
    status, _, html = await post(
        world,
        "wangzong",
        title="2027 年经销价目表",
        kind="price_list",
        body="1 月 1 日起执行。",
        units=("朗斯家居",),
        roles=("manager",),
        file=("C:\\fakepath\\2027价目表.xlsx", sheet),
    )
    assert status == 200, message_of(html)
    await world.settle()
    news = await News.get(title="2027 年经销价目表")
    assert news.file_type == XLSX
    for manager in ("wangzong", "liujingli", "chendianzhang"):
        [card] = await news_cards(world, manager)
        assert card.fields["附件"] == "2027价目表.xlsx"
    assert await news_cards(world, "zhangxiaoshou") == []

    async with world.browser_session("liujingli") as http:
        async with http.get(f"{world.relay_url}/h5/news/{news.id}") as resp:
            page = await resp.text()
            assert resp.status == 200 and "下载附件：2027价目表.xlsx" in page
        async with http.get(f"{world.relay_url}/h5/news/{news.id}/file") as resp:
            assert resp.status == 200
            assert resp.content_type == XLSX
            assert "attachment" in resp.headers["Content-Disposition"]
            assert await resp.read() == sheet
    # A salesperson is refused the file, and the page.
    status, html, _ = await get(world, "zhangxiaoshou", f"/h5/news/{news.id}/file")
    assert status == 404 and message_of(html) == "公告不存在"


async def test_read_receipts_and_withdraw(world: World) -> None:
    await post(world, "chendianzhang", title="门店例会", kind="news", units=("上海徐汇店",), roles=("sales",))
    await world.settle()
    news = await News.get(title="门店例会")
    # 公告 in chat: the unread one first, and the archive.
    await world.say("zhangxiaoshou", "公告")
    listing = world.card("zhangxiaoshou", "公告")
    assert listing.desc == "1 条未读" and "● 【新闻】门店例会" in listing.card["quote_area"]["quote_text"]

    status, page, _ = await get(world, "zhangxiaoshou", f"/h5/news/{news.id}")
    assert status == 200 and "门店例会" in page
    await get(world, "zhangxiaoshou", f"/h5/news/{news.id}")  # a second opening keeps the first read time
    first = await NewsDelivery.get(news_id=news.id, staff__userid="zhangxiaoshou")
    assert first.read_at is not None

    status, receipts, _ = await get(world, "chendianzhang", f"/h5/news/{news.id}/receipts")
    assert status == 200
    assert re.search(r'id="count-audience">3<', receipts) and re.search(r'id="count-read">1<', receipts)
    assert re.search(r'id="count-delivered">3<', receipts)
    read_list = receipts.split('id="read"')[1].split("</ul>")[0]
    unread_list = receipts.split('id="unread"')[1].split("</ul>")[0]
    assert "张晓燕" in read_list and "上海徐汇店" in read_list
    assert "顾文" in unread_list and "林悦" in unread_list and "张晓燕" not in unread_list
    # Receipts are the author's (and admins'): a reader is refused them.
    status, html, _ = await get(world, "guwen", f"/h5/news/{news.id}/receipts")
    assert status == 403 and message_of(html) == "只有发布人或管理员可以查看阅读情况"

    await world.say("zhangxiaoshou", "公告")
    assert world.card("zhangxiaoshou", "公告").desc == "没有未读公告"

    # Withdraw: a reader may not; the author does. Every card says so, the page and archive drop it.
    async with world.browser_session("chendianzhang") as http:
        async with http.get(f"{world.relay_url}/h5/news/{news.id}/receipts") as resp:
            token = csrf(await resp.text())
        async with world.browser_session("guwen") as other:
            own = csrf_token(await Staff.get(userid="guwen"))
            async with other.post(f"{world.relay_url}/h5/news/{news.id}/withdraw", data={"csrf": own}) as resp:
                assert resp.status == 403 and message_of(await resp.text()) == "只有发布人或管理员可以撤回公告"
        async with http.post(f"{world.relay_url}/h5/news/{news.id}/withdraw", data={"csrf": token}) as resp:
            assert resp.status == 200 and "公告已撤回" in await resp.text()
    await world.settle()
    for member in XUHUI_SALES:
        [card] = await news_cards(world, member)
        assert card.replace_text == "已撤回"
    status, html, _ = await get(world, "guwen", f"/h5/news/{news.id}")
    assert status == 410 and "撤回" in message_of(html)
    _, archive, _ = await get(world, "guwen", "/h5/news")
    assert "门店例会" not in archive
    _, archive, _ = await get(world, "chendianzhang", "/h5/news")
    assert "门店例会" in archive and "已撤回" in archive
    assert await AuditEntry.filter(action=AuditAction.NEWS_WITHDRAW, actor__userid="chendianzhang").count() == 1


async def test_bad_input_is_refused_in_chinese_and_sends_nothing(world: World) -> None:
    async def refused(author: str, **kwargs: Any) -> tuple[int, str]:
        status, _, html = await post(world, author, **kwargs)
        return status, message_of(html)

    assert await refused("chendianzhang", title="", units=("上海徐汇店",)) == (400, "请填写标题")
    assert await refused("chendianzhang", units=()) == (400, "请选择接收的部门（选最上级即全公司）")
    # A store manager may address their store, not the region above it.
    assert await refused("chendianzhang", units=("华东区",)) == (400, "只能发给你管理范围内的部门，华东区不在其中")
    assert await refused("liujingli", kind="price_list", units=("华东区",)) == (400, "价目表请附上文件（PDF 或 Excel）")
    assert await refused("liujingli", kind="price_list", units=("华东区",), file=("价目表.txt", b"not a sheet")) == (
        400,
        "不支持的文件类型：请上传 PDF、Excel、Word、PPT 或图片",
    )
    assert await refused("liujingli", units=("上海浦东店",), roles=("designer",)) == (
        400,
        "所选部门和角色下没有成员，请调整接收范围",
    )
    both = await refused("liujingli", title="", kind="")
    assert both == (400, "有 3 处需要修改，请看标红的项")
    # Staff who may not post are refused the form itself.
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/h5/news/new") as resp:
            assert resp.status == 403 and message_of(await resp.text()) == "只有管理员或管理层可以发布公告"
    await world.settle()
    assert await News.all().count() == 0
    assert await OutboxMessage.filter(card_task_id__startswith="news-").count() == 0
    assert world.emu.calls["media/upload"] == 0


async def test_a_large_audience_is_paced_per_member_and_nothing_is_dropped(world: World) -> None:
    """460 sales in a new store and the region's own: cards of NEWS_RECIPIENTS_PER_CARD members each. A member
    who already had a minute's worth holds back only their own card, until the minute passes."""
    world.emu.strict_duplicate_check()
    world.emu.limit_per_member(per_minute=30, per_hour=1000)
    store = await ensure_unit("朗斯家居/华东区/上海闵行店")
    many = [
        Staff(userid=f"minhang{i:03d}", name=f"闵行{i:03d}", roles=[Role.SALES.value], org_unit=store)
        for i in range(460)
    ]
    await Staff.bulk_create(many)
    for member in many:
        world.emu.add_member(member.userid, member.name)
    busy = "zhangxiaoshou"
    for i in range(30):
        await queue_text(busy, f"通知 {i + 1}")
    world.services.outbox.wake()
    await world.settle()
    assert world.emu.delivered[busy] < 30  # notices stop short of WeCom's limit, and the rest wait

    status, _, html = await post(world, "liujingli", title="年终冲刺", units=("华东区",), roles=("sales",))
    assert status == 200, message_of(html)
    await world.settle()
    news = await News.get(title="年终冲刺")
    deliveries = await NewsDelivery.filter(news_id=news.id).prefetch_related("staff")
    audience = [d.staff.userid for d in deliveries]
    assert len(audience) == 464
    cards = await OutboxMessage.filter(card_task_id__startswith=f"news-{news.id}-").order_by("id")
    assert len(cards) == -(-464 // NEWS_RECIPIENTS_PER_CARD)
    held = next(c for c in cards if busy in c.payload["touser"].split("|"))
    held_members = set(held.payload["touser"].split("|"))
    # Every card but the busy member's went; theirs waits, counted for nobody.
    assert held.state == MessageState.PENDING and held.attempts == 0
    for member in audience:
        assert len(await news_cards(world, member)) == (0 if member in held_members else 1), member
    assert sum(world.emu.dropped.values()) == 0

    # The minute passes (WeCom's window in the emulator, Relay's own count): the held card goes too.
    world.emu.advance_time(61)
    world.services.outbox.pacer = MemoryPacer()
    await OutboxMessage.filter(state=MessageState.PENDING).update(next_attempt_at=utcnow())
    await world.settle()
    for member in audience:
        assert len(await news_cards(world, member)) == 1, member
    assert sum(world.emu.dropped.values()) == 0
    assert len([t for t in world.texts(busy) if t.startswith("通知")]) == 30
    status, receipts, _ = await get(world, "liujingli", f"/h5/news/{news.id}/receipts")
    assert re.search(r'id="count-delivered">464<', receipts)


async def test_an_erp_posts_news_through_the_api_as_a_manager_and_reads_the_receipts(world: World) -> None:
    from tests.test_api import bearer, call, token

    xuhui, far = await ensure_unit("朗斯家居/华东区/上海徐汇店"), await OrgUnit.get(name="上海浦东店")
    as_manager = await token("news:write", "news:read", acts_as="chendianzhang")
    url = f"{world.relay_url}/api/v1/news"
    body = {"title": "ERP：合页调价", "body": "HJ-01 下月起调价", "kind": "news", "unit_ids": [xuhui.id]}
    async with aiohttp.ClientSession() as http:
        # Outside the manager's store: refused as on the page, nothing sent.
        status, refused, _ = await call(http, "POST", url, bearer(as_manager, "n-0"), {**body, "unit_ids": [far.id]})
        assert status == 400 and refused["field"] == "units" and "不在其中" in refused["message"], refused
        status, posted, _ = await call(http, "POST", url, bearer(as_manager, "n-1"), {**body, "roles": ["sales"]})
        assert status == 201 and posted["audience"] == len(XUHUI_SALES) and not posted["read"], posted
        again = await call(http, "POST", url, bearer(as_manager, "n-1"), {**body, "roles": ["sales"]})
        assert again[0] == 201 and again[1]["id"] == posted["id"]  # the retry is the same post
        await world.settle()
        [card] = await news_cards(world, "zhangxiaoshou")
        assert card.title == "【新闻】ERP：合页调价"
        status, _, _ = await get(world, "zhangxiaoshou", f"/h5/news/{posted['id']}")
        assert status == 200
        status, seen, _ = await call(http, "GET", f"{url}/{posted['id']}", bearer(as_manager))
        assert status == 200 and [r["name"] for r in seen["read"]] == ["张晓燕"]
        assert seen["delivered"] == len(XUHUI_SALES) and len(seen["unread"]) == len(XUHUI_SALES) - 1
        # A reader's token may not read the receipts.
        as_reader = await token("news:read", acts_as="zhangxiaoshou")
        status, refused, _ = await call(http, "GET", f"{url}/{posted['id']}", bearer(as_reader))
        assert status == 403 and refused["message"] == "只有发布人或管理员可以查看阅读情况"
    assert await News.filter(title="ERP：合页调价").count() == 1
