"""The /cgi-bin/ API: every answer and error code Relay can meet."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import FormData

from tests.emulator.support import AGENT_ID, CORP_ID, SECRET, Emu, button_card, card_body, text_body

# -- gettoken and token checks --------------------------------------------------------------------


async def gettoken(emu: Emu, **params: str) -> dict[str, Any]:
    resp = await emu.client.get("/cgi-bin/gettoken", params=params)
    return dict(await resp.json())


async def test_gettoken(emu: Emu) -> None:
    answer = await gettoken(emu, corpid=CORP_ID, corpsecret=SECRET)
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    assert answer["access_token"] and answer["expires_in"] == 7200


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"corpid": "wrong", "corpsecret": SECRET}, 40013),
        ({"corpid": CORP_ID, "corpsecret": "wrong"}, 40001),
        ({"corpsecret": SECRET}, 41002),
        ({"corpid": CORP_ID}, 41004),
    ],
)
async def test_gettoken_errors(emu: Emu, params: dict[str, str], errcode: int) -> None:
    answer = await gettoken(emu, **params)
    assert answer["errcode"] == errcode
    assert "access_token" not in answer


async def test_token_reused_while_valid_then_new_after_expiry(emu: Emu) -> None:
    first = await emu.token()
    assert await emu.token() == first
    emu.state.advance_time(7201)
    second = await emu.token()
    assert second != first
    assert (await emu.call("GET", "user/get", token=first, params={"userid": "lisi"}))["errcode"] == 42001
    assert (await emu.call("GET", "user/get", token=second, params={"userid": "lisi"}))["errcode"] == 0


@pytest.mark.parametrize(("token", "errcode"), [("", 41001), ("not-a-token", 40014)])
async def test_token_missing_or_unknown(emu: Emu, token: str, errcode: int) -> None:
    answer = await emu.send(text_body(), token=token)
    assert answer["errcode"] == errcode
    assert emu.state.chat("zhangsan") == []


async def test_expire_tokens_invalidates_every_token(emu: Emu) -> None:
    token = await emu.token()
    emu.state.expire_tokens()
    assert (await emu.send(text_body(), token=token))["errcode"] == 42001
    fresh = await emu.token()
    assert fresh != token
    assert (await emu.send(text_body(), token=fresh))["errcode"] == 0


# -- user/get -------------------------------------------------------------------------------------


async def test_user_get(emu: Emu) -> None:
    answer = await emu.call("GET", "user/get", params={"userid": "lisi"})
    assert answer == {
        "errcode": 0,
        "errmsg": "ok",
        "userid": "lisi",
        "name": "李四",
        "department": [1, 2],
        "order": [0, 0],
        "position": "测量师傅",
        "main_department": 1,
        "is_leader_in_dept": [0, 0],
        "direct_leader": [],
        "status": 1,
    }


async def test_user_get_unknown_and_missing(emu: Emu) -> None:
    assert (await emu.call("GET", "user/get", params={"userid": "nobody"}))["errcode"] == 60111
    assert (await emu.call("GET", "user/get"))["errcode"] == 41009


# -- message/send: text and friends ---------------------------------------------------------------


async def test_send_text_lands_in_chat(emu: Emu) -> None:
    answer = await emu.send(text_body("测量已安排", touser="zhangsan|lisi"))
    assert answer["errcode"] == 0 and answer["msgid"]
    assert "invaliduser" not in answer and "response_code" not in answer
    for userid in ("zhangsan", "lisi"):
        [entry] = emu.state.chat(userid)
        assert entry.direction == "out" and entry.msgtype == "text"
        assert entry.text == "测量已安排" and entry.msgid == answer["msgid"]
    assert emu.state.chat("wangwu") == []


async def test_text_limit_is_2048_utf8_bytes(emu: Emu) -> None:
    exactly = "测" * 682 + "ab"  # 682 * 3 + 2 = 2048 bytes
    assert (await emu.send(text_body(exactly)))["errcode"] == 0
    assert (await emu.send(text_body(exactly + "c")))["errcode"] == 45002
    assert (await emu.send(text_body("")))["errcode"] == 44004
    body = {"touser": "zhangsan", "msgtype": "markdown", "markdown": {"content": "x" * 2049}}
    assert (await emu.send(body))["errcode"] == 45002
    assert len(emu.state.chat("zhangsan")) == 1


@pytest.mark.parametrize(
    ("agentid", "errcode"),
    [(None, 41011), ("abc", 40056), (AGENT_ID + 1, 301002)],
)
async def test_agentid_checked(emu: Emu, agentid: Any, errcode: int) -> None:
    body = text_body()
    body["agentid"] = agentid
    answer = await emu.call("POST", "message/send", json=body)
    assert answer["errcode"] == errcode


async def test_unknown_msgtype(emu: Emu) -> None:
    answer = await emu.send({"touser": "zhangsan", "msgtype": "mpnews_v9", "mpnews_v9": {}})
    assert answer["errcode"] == 40008


async def test_malformed_json(emu: Emu) -> None:
    resp = await emu.client.post("/cgi-bin/message/send", params={"access_token": await emu.token()}, data=b"{not json")
    assert (await resp.json())["errcode"] == 40058


async def test_invalid_users_reported_lowercased(emu: Emu) -> None:
    answer = await emu.send(text_body(touser="ZhangSan|Ghost|nobody"))
    assert answer["errcode"] == 0
    assert answer["invaliduser"] == "ghost|nobody"
    assert len(emu.state.chat("zhangsan")) == 1


async def test_all_recipients_invalid(emu: Emu) -> None:
    answer = await emu.send(text_body(touser="ghost"))
    assert answer["errcode"] == 81013
    assert answer["invaliduser"] == "ghost"
    assert (await emu.send({"msgtype": "text", "text": {"content": "x"}}))["errcode"] == 81013


async def test_all_and_party_recipients(emu: Emu) -> None:
    await emu.send(text_body("全员", touser="@all"))
    assert all(emu.state.texts(u) == ["全员"] for u in ("zhangsan", "lisi", "wangwu"))
    answer = await emu.send({"toparty": "2|99", "totag": "7", "msgtype": "text", "text": {"content": "部门"}})
    assert answer["invalidparty"] == "99" and answer["invalidtag"] == "7"
    assert emu.state.texts("lisi")[-1] == "部门"
    assert emu.state.texts("zhangsan") == ["全员"]


async def test_textcard_and_news_rules(emu: Emu) -> None:
    card = {"title": "订单", "description": '<div class="gray">今天</div>', "url": "https://relay.test/o/1"}
    assert (await emu.send({"touser": "lisi", "msgtype": "textcard", "textcard": card}))["errcode"] == 0
    no_desc = {**card, "description": ""}
    assert (await emu.send({"touser": "lisi", "msgtype": "textcard", "textcard": no_desc}))["errcode"] == 41033
    long_btn = {**card, "btntxt": "查看订单详情"}
    assert (await emu.send({"touser": "lisi", "msgtype": "textcard", "textcard": long_btn}))["errcode"] == 45002
    articles = [{"title": f"第{i}篇", "url": "https://relay.test"} for i in range(9)]
    news = {"touser": "lisi", "msgtype": "news", "news": {"articles": articles}}
    assert (await emu.send(news))["errcode"] == 45008
    news["news"] = {"articles": articles[:8]}
    assert (await emu.send(news))["errcode"] == 0


async def test_image_needs_a_known_media_id(emu: Emu) -> None:
    body = {"touser": "lisi", "msgtype": "image", "image": {"media_id": "nope"}}
    assert (await emu.send(body))["errcode"] == 40007
    body["image"] = {}
    assert (await emu.send(body))["errcode"] == 41006
    media_id = await upload(emu, "image", b"\x89PNG fake image bytes", "a.png")
    body["image"] = {"media_id": media_id}
    assert (await emu.send(body))["errcode"] == 0
    assert emu.state.last_message("lisi").msgtype == "image"  # type: ignore[union-attr]


# -- duplicate check ------------------------------------------------------------------------------


async def test_duplicate_check(emu: Emu) -> None:
    body = text_body("请确认", enable_duplicate_check=1, duplicate_check_interval=600)
    first = await emu.send(body)
    second = await emu.send(body)
    assert first["errcode"] == second["errcode"] == 0
    assert second["msgid"] == first["msgid"]
    assert emu.state.texts("zhangsan") == ["请确认"]
    emu.state.advance_time(601)
    third = await emu.send(body)
    assert third["msgid"] != first["msgid"]
    assert emu.state.texts("zhangsan") == ["请确认", "请确认"]


async def test_duplicate_check_only_when_asked_and_same_recipients(emu: Emu) -> None:
    await emu.send(text_body("同一句"))
    await emu.send(text_body("同一句"))
    assert len(emu.state.texts("zhangsan")) == 2
    await emu.send(text_body("另一句", enable_duplicate_check=1))
    await emu.send(text_body("另一句", touser="zhangsan|lisi", enable_duplicate_check=1))
    assert emu.state.texts("lisi") == ["另一句"]
    # Other recipients make it another message, so zhangsan gets it again.
    assert emu.state.texts("zhangsan").count("另一句") == 2


async def test_strict_duplicate_check_compares_the_whole_request(emu: Emu) -> None:
    emu.state.strict_duplicate_check()
    plain = text_body("重试的消息")
    await emu.send(plain)
    # The loose reading would drop this retry (same content, same member); the doc's would not.
    await emu.send({**plain, "enable_duplicate_check": 1})
    assert emu.state.texts("zhangsan") == ["重试的消息", "重试的消息"]
    flagged = text_body("每次都带检查", enable_duplicate_check=1, duplicate_check_interval=600)
    first = await emu.send(flagged)
    again = await emu.send(flagged)
    assert again["errcode"] == 0 and again["msgid"] == first["msgid"]
    assert emu.state.texts("zhangsan").count("每次都带检查") == 1


async def test_member_limit_drops_silently_and_counts(emu: Emu) -> None:
    emu.state.limit_per_member(per_minute=30, per_hour=1000)
    answers = [await emu.send(text_body(f"第 {i} 条")) for i in range(35)]
    assert all(a["errcode"] == 0 and a["msgid"] for a in answers)  # WeCom says nothing
    assert len(emu.state.texts("zhangsan")) == 30
    assert (emu.state.delivered["zhangsan"], emu.state.dropped["zhangsan"]) == (30, 5)
    emu.state.advance_time(60)  # a minute later the member receives again
    await emu.send(text_body("一分钟后"))
    assert emu.state.texts("zhangsan")[-1] == "一分钟后"


# -- template cards -------------------------------------------------------------------------------


async def test_interactive_card_answers_response_code(emu: Emu) -> None:
    answer = await emu.send(card_body(button_card()))
    assert answer["errcode"] == 0 and answer["response_code"]
    card = emu.state.last_card("zhangsan")
    assert card is not None
    assert card.task_id == "task-1" and card.title == "新订单待派单"
    assert card.button_texts == ["派给李四", "稍后"] and not card.replaced
    assert card.fields == {"地址": "幸福路 8 号"}


async def test_notice_card_has_no_response_code(emu: Emu) -> None:
    notice = {
        "card_type": "text_notice",
        "main_title": {"title": "测量完成"},
        "card_action": {"type": 1, "url": "https://relay.test/o/1"},
    }
    answer = await emu.send(card_body(notice))
    assert answer["errcode"] == 0 and "response_code" not in answer


def _without(card: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in card.items() if k != key}


BAD_CARDS = {
    "card_type": button_card(card_type="fancy_card"),
    "no task_id": _without(button_card(), "task_id"),
    "task_id charset": button_card("订单-1"),
    "task_id space": button_card("task 1"),
    "task_id too long": button_card("t" * 129),
    "too many buttons": button_card(button_list=[{"text": f"b{i}", "key": f"k{i}"} for i in range(7)]),
    "key too long": button_card(button_list=[{"text": "b", "key": "k" * 1025}]),
    "no key": button_card(button_list=[{"text": "b"}]),
    "no buttons": button_card(button_list=[]),
    "no title": _without(button_card(), "main_title"),
    "text_notice without card_action": {"card_type": "text_notice", "main_title": {"title": "t"}},
    "vote without checkbox": {
        "card_type": "vote_interaction",
        "task_id": "v",
        "main_title": {"title": "t"},
        "submit_button": {"text": "提交", "key": "s"},
    },
}


@pytest.mark.parametrize("name", list(BAD_CARDS))
async def test_card_rules(emu: Emu, name: str) -> None:
    answer = await emu.send(card_body(BAD_CARDS[name]))
    assert answer["errcode"] == 40058, answer
    assert emu.state.chat("zhangsan") == []


async def test_card_limits_that_pass(emu: Emu) -> None:
    six = [{"text": f"b{i}", "key": "k" * 1024} for i in range(6)]
    assert (await emu.send(card_body(button_card("a" * 128, button_list=six))))["errcode"] == 0
    sub_only = _without(button_card("sub-only"), "main_title") | {"sub_title_text": "只有副标题"}
    assert (await emu.send(card_body(sub_only)))["errcode"] == 0


async def test_task_id_reuse_is_refused_forever(emu: Emu) -> None:
    assert (await emu.send(card_body(button_card("once"))))["errcode"] == 0
    emu.state.advance_time(30 * 24 * 3600)
    again = await emu.send(card_body(button_card("once"), touser="lisi"))
    assert again["errcode"] == 42014
    assert "msgid" not in again
    assert emu.state.chat("lisi") == []


async def test_failed_send_does_not_burn_task_id(emu: Emu) -> None:
    assert (await emu.send(card_body(button_card("retry-me"), touser="ghost")))["errcode"] == 81013
    assert (await emu.send(card_body(button_card("retry-me"))))["errcode"] == 0


# -- update_template_card -------------------------------------------------------------------------


async def update(emu: Emu, **body: Any) -> dict[str, Any]:
    return await emu.call("POST", "message/update_template_card", json={"agentid": AGENT_ID, **body})


async def test_replace_name_for_all_recipients(emu: Emu) -> None:
    sent = await emu.send(card_body(button_card(), touser="zhangsan|lisi"))
    answer = await update(
        emu,
        userids=["zhangsan", "lisi"],
        response_code=sent["response_code"],
        button={"replace_name": "已派单"},
    )
    assert answer == {"errcode": 0, "errmsg": "ok"}
    for userid in ("zhangsan", "lisi"):
        card = emu.state.last_card(userid)
        assert card is not None and card.replaced and card.replace_text == "已派单"
        assert card.buttons == () and card.title == "新订单待派单"  # content kept


async def test_response_code_is_one_use(emu: Emu) -> None:
    sent = await emu.send(card_body(button_card()))
    code = sent["response_code"]
    assert (await update(emu, userids=["zhangsan"], response_code=code, button={"replace_name": "好"}))["errcode"] == 0
    again = await update(emu, userids=["zhangsan"], response_code=code, button={"replace_name": "再"})
    assert again["errcode"] == 60140
    assert emu.state.last_card("zhangsan").replace_text == "好"  # type: ignore[union-attr]


async def test_response_code_unknown_or_expired(emu: Emu) -> None:
    assert (await update(emu, userids=["zhangsan"], response_code="nope", button={"replace_name": "x"}))[
        "errcode"
    ] == 60140
    sent = await emu.send(card_body(button_card()))
    emu.state.advance_time(72 * 3600 + 1)
    expired = await update(emu, userids=["zhangsan"], response_code=sent["response_code"], button={"replace_name": "x"})
    assert expired["errcode"] == 60140
    assert not emu.state.last_card("zhangsan").replaced  # type: ignore[union-attr]


async def test_update_subset_and_out_of_scope_users(emu: Emu) -> None:
    sent = await emu.send(card_body(button_card(), touser="zhangsan|lisi"))
    answer = await update(
        emu,
        userids=["lisi", "wangwu"],
        response_code=sent["response_code"],
        button={"replace_name": "已处理"},
    )
    assert answer["errcode"] == 0 and answer["invaliduser"] == ["wangwu"]
    assert emu.state.last_card("lisi").replaced  # type: ignore[union-attr]
    assert not emu.state.last_card("zhangsan").replaced  # type: ignore[union-attr]


async def test_update_with_no_valid_user_keeps_the_code(emu: Emu) -> None:
    sent = await emu.send(card_body(button_card()))
    code = sent["response_code"]
    assert (await update(emu, userids=["wangwu"], response_code=code, button={"replace_name": "x"}))["errcode"] == 81013
    assert (await update(emu, atall=1, response_code=code, button={"replace_name": "x"}))["errcode"] == 0


async def test_update_whole_card_keeps_task_id(emu: Emu) -> None:
    sent = await emu.send(card_body(button_card("keep-me")))
    new_card = button_card(
        "something-else",
        main_title={"title": "已派给李四"},
        button_list=[{"text": "撤回", "key": "undo", "style": 2}],
    )
    answer = await update(emu, userids=["zhangsan"], response_code=sent["response_code"], template_card=new_card)
    assert answer["errcode"] == 0
    card = emu.state.last_card("zhangsan")
    assert card is not None
    assert card.title == "已派给李四" and card.task_id == "keep-me" and card.button_texts == ["撤回"]
    assert len(emu.state.chat("zhangsan")) == 1  # replaced in place, not a new message


async def test_update_validates_body(emu: Emu) -> None:
    sent = await emu.send(card_body(button_card()))
    code = sent["response_code"]
    assert (await update(emu, userids=["zhangsan"], response_code=code))["errcode"] == 40058
    bad = await update(emu, userids=["zhangsan"], response_code=code, template_card={"card_type": "nope"})
    assert bad["errcode"] == 40058
    other = await emu.call(
        "POST",
        "message/update_template_card",
        json={"agentid": 1, "userids": ["zhangsan"], "response_code": code, "button": {"replace_name": "x"}},
    )
    assert other["errcode"] == 301002
    assert (await update(emu, userids=["zhangsan"], response_code=code, button={"replace_name": "x"}))["errcode"] == 0


# -- media ----------------------------------------------------------------------------------------


async def upload_raw(emu: Emu, media_type: str, data: bytes, filename: str) -> dict[str, Any]:
    form = FormData()
    form.add_field("media", data, filename=filename, content_type="application/octet-stream")
    return await emu.call("POST", "media/upload", params={"type": media_type}, data=form)


async def upload(emu: Emu, media_type: str, data: bytes, filename: str) -> str:
    answer = await upload_raw(emu, media_type, data, filename)
    assert answer["errcode"] == 0, answer
    return str(answer["media_id"])


async def test_upload_and_get(emu: Emu) -> None:
    answer = await upload_raw(emu, "file", "测量单内容".encode(), "测量单.txt")
    assert answer["type"] == "file" and isinstance(answer["created_at"], str)
    resp = await emu.client.get(
        "/cgi-bin/media/get", params={"access_token": await emu.token(), "media_id": answer["media_id"]}
    )
    assert resp.status == 200
    assert await resp.read() == "测量单内容".encode()
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert resp.headers["Content-Disposition"] == 'attachment; filename="测量单.txt"'


async def test_media_get_range(emu: Emu) -> None:
    media_id = await upload(emu, "file", b"0123456789", "digits.bin")
    resp = await emu.client.get(
        "/cgi-bin/media/get",
        params={"access_token": await emu.token(), "media_id": media_id},
        headers={"Range": "bytes=2-5"},
    )
    assert resp.status == 206 and await resp.read() == b"2345"
    assert resp.headers["Content-Range"] == "bytes 2-5/10"


async def test_media_get_unknown_or_expired(emu: Emu) -> None:
    assert (await emu.call("GET", "media/get", params={"media_id": "nope"}))["errcode"] == 40007
    media_id = await upload(emu, "image", b"123456", "a.jpg")
    emu.state.advance_time(3 * 24 * 3600 + 1)
    assert (await emu.call("GET", "media/get", params={"media_id": media_id}))["errcode"] == 40007


@pytest.mark.parametrize(
    ("media_type", "size", "errcode"),
    [
        ("image", 5, 40006),
        ("image", 6, 0),
        ("image", 10 * 1024 * 1024, 0),
        ("image", 10 * 1024 * 1024 + 1, 45001),
        ("file", 20 * 1024 * 1024 + 1, 45001),
        ("voice", 2 * 1024 * 1024 + 1, 45001),
        ("sticker", 100, 40005),
    ],
)
async def test_upload_sizes_and_types(emu: Emu, media_type: str, size: int, errcode: int) -> None:
    answer = await upload_raw(emu, media_type, b"x" * size, "blob.bin")
    assert answer["errcode"] == errcode


async def test_upload_without_media_field(emu: Emu) -> None:
    form = FormData()
    form.add_field("other", b"123456", filename="a.bin")
    answer = await emu.call("POST", "media/upload", params={"type": "file"}, data=form)
    assert answer["errcode"] == 44001
