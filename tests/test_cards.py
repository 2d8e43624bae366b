"""Card builders are pure: domain values in, a WeCom payload out, within WeCom's limits for any text."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cards.approval import ReviewFigures, approval_card, approval_result_card
from cards.common import clip
from cards.keys import (
    TASK_ID_RE,
    CardKind,
    CardRef,
    DispatchKey,
    KeyError_,
    PhotoCategoryKey,
    TaskAnswerKey,
    unpack_key,
)
from cards.measure import photo_category_card
from cards.orders import help_card, order_card
from cards.tasks import dispatch_card, task_card
from cards.views import OrderView, TaskView
from infra.runtime import Links
from models.flows import INSTALL, MEASURE

LINKS = Links(
    public_url="https://relay.example.com",
    oauth_url="https://open.weixin.qq.com/connect/oauth2/authorize",
    corp_id="wwcorp",
    agent_id=1000002,
)
NASTY = "黄\"女士'<script>alert(1)</script>😀" + "长" * 300


def order(name: str = "黄女士", address: str = "上海市徐汇区") -> OrderView:
    return OrderView(
        id=7,
        number="LS001",
        state="created",
        state_label="待派测量",
        customer_name=name,
        phone="13812345678",
        address=address,
        items=["主卫：淋浴房 K系列 K5"],
        sales_name="张晓燕",
        expected_measure_date=date(2026, 12, 1),
        timeline=["11-25 10:00 张晓燕 创建订单"],
    )


def test_keys_round_trip_and_refuse_garbage() -> None:
    for key in (
        DispatchKey(kind="measure", order_id=3, worker_id=9, date="2026-12-01"),
        TaskAnswerKey(task_id=5, accept=0),
        PhotoCategoryKey(attachment_id=11, category="windows"),
    ):
        assert unpack_key(key.pack()) == key
    for bad in ("zz:1", "dm:1:2", "dm:x:2:2026-01-01", "", "ta:1:2:3"):
        with pytest.raises(KeyError_):
            unpack_key(bad)
    with pytest.raises(KeyError_):
        PhotoCategoryKey(attachment_id=1, category="a:b").pack()


def test_task_ids_are_unique_and_in_wecoms_charset() -> None:
    ids = {CardRef(CardKind.NEW_ORDER_FORM, 123456789).new_task_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(TASK_ID_RE.match(i) and len(i.encode()) <= 128 for i in ids)
    # Every kind's cards are found again by their prefix, and no kind's prefix is another's.
    prefixes = [CardRef(kind, 7).prefix for kind in CardKind]
    assert all(CardRef(kind, 7).new_task_id().startswith(CardRef(kind, 7).prefix) for kind in CardKind)
    assert not any(a != b and b.startswith(a) for a in prefixes for b in prefixes)


def test_clip_counts_bytes_and_never_splits_a_character() -> None:
    text = "测量" * 100
    cut = clip(text, 40)
    assert len(cut.encode()) <= 40 and cut.endswith("…")
    cut.encode("utf-8")  # whole characters only
    assert clip("  多个\n空白  ", 40) == "多个 空白"
    assert clip(" 第一行 \n\n  第二行\t末尾 ", 40, multiline=True) == "第一行\n第二行 末尾"


def test_quotes_keep_their_lines() -> None:
    message = order_card("s1", order(), links=LINKS)
    view = order()
    timeline = order_card("s1", OrderView(**{**view.__dict__, "timeline": ["一", "二", "三"]}), links=LINKS)
    assert timeline["template_card"]["quote_area"]["quote_text"] == "一\n二\n三"
    assert message["template_card"]["quote_area"]["quote_text"] == "11-25 10:00 张晓燕 创建订单"


@pytest.mark.parametrize("name", ["黄女士", NASTY, "", "a" * 2000])
def test_cards_stay_within_limits_for_any_name(name: str) -> None:
    view = order(name=name, address=NASTY)
    cards = [
        dispatch_card(["d1", "d2"], MEASURE, view, suggestion=(1, name or "某", date(2026, 12, 1)), links=LINKS),
        dispatch_card(["d1"], INSTALL, view, suggestion=None, links=LINKS, note=NASTY),
        task_card("m1", MEASURE, TaskView(1, "测量", "待接单", date(2026, 12, 1), view), links=LINKS),
        photo_category_card("m1", attachment_id=3, order=view, count=2),
        order_card("s1", view, links=LINKS),
        help_card("s1", 1, ["sales", "measurer"], links=LINKS, can_create=True),
        approval_card(
            ["m1", "m2"],
            view,
            approval_id=9,
            figures=ReviewFigures(name or "门店审核", "12,000.00", "9,000.00", "25%", [NASTY] * 20, [name] * 20),
            review_path="/h5/orders/X/approval",
            links=LINKS,
        ),
        approval_result_card("s1", view, title=name, text=NASTY, edit_path="", links=LINKS),
    ]
    for message in cards:
        card = message["template_card"]
        assert len(card["main_title"]["title"].encode()) <= 36
        assert len(card["main_title"].get("desc", "").encode()) <= 44
        for row in card.get("horizontal_content_list", []):
            assert len(row["value"].encode()) <= 60
        for button in card.get("button_list", []):
            assert len(button.get("key", "").encode()) <= 1024 and len(button["text"].encode()) <= 30
        assert len(card.get("button_list", [])) <= 6
        assert TASK_ID_RE.match(card["task_id"])
        json.dumps(message, ensure_ascii=False)


def test_new_order_card_offers_the_suggestion_and_the_page() -> None:
    message = dispatch_card(["d1", "d2"], MEASURE, order(), suggestion=(9, "孙师傅", date(2026, 12, 1)), links=LINKS)
    assert message["touser"] == "d1|d2"
    buttons = message["template_card"]["button_list"]
    assert buttons[0]["text"] == "派给孙师傅·12月01日"
    assert unpack_key(buttons[0]["key"]) == DispatchKey(kind="measure", order_id=7, worker_id=9, date="2026-12-01")
    # The page itself, which signs the member in through WeCom OAuth with a state of its own.
    assert buttons[1]["url"] == "https://relay.example.com/h5/orders/LS001/dispatch/measure?signin=1"
    oauth = LINKS.wecom_oauth("https://relay.example.com/h5/orders/LS001/dispatch/measure", "s-1")
    assert oauth.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wwcorp")
    assert "redirect_uri=https%3A%2F%2Frelay.example.com%2Fh5%2Forders%2FLS001%2Fdispatch%2Fmeasure" in oauth
    assert oauth.endswith("&state=s-1&agentid=1000002#wechat_redirect")


def test_cards_show_the_phone_masked() -> None:
    # A card stays in WeCom's chat history: the full number is on the order page only.
    view = order()
    for card in (
        order_card("u1", view, links=LINKS),
        task_card("u1", MEASURE, TaskView(1, "测量", "待接单", date(2026, 12, 3), view), links=LINKS),
        dispatch_card(["u1"], MEASURE, view, suggestion=None, links=LINKS),
    ):
        text = json.dumps(card, ensure_ascii=False)
        assert "138****5678" in text and "13812345678" not in text
