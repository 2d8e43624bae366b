"""Checks message/send and update_template_card bodies the way WeCom does; pure, no state."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator import errors
from emulator.chat import INTERACTIVE_CARD_TYPES
from emulator.errors import WeComError

MSGTYPES = frozenset({"text", "markdown", "textcard", "news", "image", "voice", "file", "template_card"})
CARD_TYPES = frozenset({"text_notice", "news_notice", *INTERACTIVE_CARD_TYPES})
TASK_ID_RE = re.compile(r"[0-9A-Za-z_\-@]+")
MAX_CONTENT_BYTES = 2048
MAX_TASK_ID_BYTES = 128
MAX_BUTTON_KEY_BYTES = 1024
MAX_BUTTONS = 6
MAX_HORIZONTAL_ROWS = 6
MAX_JUMPS = 3
MAX_ACTIONS = 3
MAX_SELECTS = 3
MAX_ARTICLES = 8


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def check_agentid(raw: Any, expected: int) -> None:
    if raw is None or raw == "":
        raise WeComError(errors.MISSING_AGENTID)
    try:
        agentid = int(raw)
    except (TypeError, ValueError):
        raise WeComError(errors.INVALID_AGENTID, f"agentid {raw!r}") from None
    if agentid != expected:
        raise WeComError(errors.OTHER_AGENT, f"agentid {agentid}")


def check_message(body: dict[str, Any], media_exists: Callable[[str], bool]) -> str:
    """Validate the content part of a message/send body; answers its msgtype."""
    msgtype = body.get("msgtype")
    if not isinstance(msgtype, str) or msgtype not in MSGTYPES:
        raise WeComError(errors.INVALID_MSGTYPE, f"msgtype {msgtype!r}")
    content = body.get(msgtype)
    if not isinstance(content, dict):
        code = errors.EMPTY_CONTENT if msgtype in ("text", "markdown") else errors.INVALID_PARAMETER
        raise WeComError(code, f"{msgtype} missing")
    if msgtype in ("text", "markdown"):
        _check_text(content)
    elif msgtype == "textcard":
        _check_textcard(content)
    elif msgtype == "news":
        _check_news(content)
    elif msgtype == "template_card":
        check_template_card(content)
    else:
        _check_media(content, media_exists)
    return msgtype


def _check_text(content: dict[str, Any]) -> None:
    text = content.get("content")
    if not isinstance(text, str) or not text:
        raise WeComError(errors.EMPTY_CONTENT)
    if utf8_len(text) > MAX_CONTENT_BYTES:
        raise WeComError(errors.CONTENT_TOO_LONG, f"content is {utf8_len(text)} bytes, limit 2048")


def _check_textcard(content: dict[str, Any]) -> None:
    title, description = content.get("title"), content.get("description")
    if not title:
        raise WeComError(errors.MISSING_TITLE)
    if not description:
        raise WeComError(errors.MISSING_DESCRIPTION)
    if not content.get("url"):
        raise WeComError(errors.MISSING_URL)
    if utf8_len(str(title)) > 128 or utf8_len(str(description)) > 512:
        raise WeComError(errors.CONTENT_TOO_LONG, "textcard title <= 128 bytes, description <= 512 bytes")
    if len(str(content.get("btntxt", ""))) > 4:
        raise WeComError(errors.CONTENT_TOO_LONG, "btntxt <= 4 characters")


def _check_news(content: dict[str, Any]) -> None:
    articles = content.get("articles")
    if not isinstance(articles, list) or not 1 <= len(articles) <= MAX_ARTICLES:
        raise WeComError(errors.TOO_MANY_ARTICLES, "news has 1 to 8 articles")
    for article in articles:
        if not isinstance(article, dict) or not article.get("title"):
            raise WeComError(errors.MISSING_TITLE)


def _check_media(content: dict[str, Any], media_exists: Callable[[str], bool]) -> None:
    media_id = content.get("media_id")
    if not media_id:
        raise WeComError(errors.MISSING_MEDIA_ID)
    if not media_exists(str(media_id)):
        raise WeComError(errors.INVALID_MEDIA_ID, str(media_id))


def _card_error(detail: str) -> WeComError:
    return WeComError(errors.INVALID_PARAMETER, f"template_card: {detail}")


def check_template_card(card: Any, *, task_id_given_elsewhere: bool = False) -> None:
    """The card rules of 90236; `task_id_given_elsewhere` for an update, where the card keeps its own."""
    if not isinstance(card, dict):
        raise _card_error("not an object")
    card_type = card.get("card_type")
    if card_type not in CARD_TYPES:
        raise _card_error(f"card_type {card_type!r}")
    _check_task_id(
        card,
        required=card_type in INTERACTIVE_CARD_TYPES or "action_menu" in card,
        given_elsewhere=task_id_given_elsewhere,
    )
    main_title = card.get("main_title")
    has_title = isinstance(main_title, dict) and bool(main_title.get("title"))
    if not has_title and not card.get("sub_title_text"):
        raise _card_error("main_title.title or sub_title_text is required")
    if card_type == "text_notice":
        _check_card_action(card.get("card_action"))
    if card_type == "button_interaction" and not card.get("button_list"):
        raise _card_error("button_list is required for button_interaction")
    _check_buttons(card.get("button_list", []))
    _check_lists(card)
    _check_questions(card, str(card_type))


def _check_task_id(card: dict[str, Any], *, required: bool, given_elsewhere: bool) -> None:
    task_id = card.get("task_id")
    if task_id is None or task_id == "":
        if required and not given_elsewhere:
            raise _card_error("task_id is required")
        return
    if not isinstance(task_id, str) or not TASK_ID_RE.fullmatch(task_id):
        raise _card_error("task_id may only hold 0-9 A-Z a-z _ - @")
    if utf8_len(task_id) > MAX_TASK_ID_BYTES:
        raise _card_error("task_id is longer than 128 bytes")


def _check_card_action(action: Any) -> None:
    if not isinstance(action, dict) or "type" not in action:
        raise _card_error("card_action is required for text_notice")
    if int(action.get("type", 0)) == 1 and not action.get("url"):
        raise _card_error("card_action.url is required when type is 1")


def _check_buttons(buttons: Any) -> None:
    if not isinstance(buttons, list):
        raise _card_error("button_list is not a list")
    if len(buttons) > MAX_BUTTONS:
        raise _card_error(f"button_list has {len(buttons)} buttons, limit 6")
    for button in buttons:
        if not isinstance(button, dict) or not button.get("text"):
            raise _card_error("every button needs a text")
        if int(button.get("type", 0)) == 1:
            if not button.get("url"):
                raise _card_error("a url button needs a url")
            continue
        _check_key(button.get("key"), "button")


def _check_key(key: Any, what: str) -> None:
    if not isinstance(key, str) or not key:
        raise _card_error(f"{what} key is required")
    if utf8_len(key) > MAX_BUTTON_KEY_BYTES:
        raise _card_error(f"{what} key is longer than 1024 bytes")


def _check_lists(card: dict[str, Any]) -> None:
    if len(card.get("horizontal_content_list", [])) > MAX_HORIZONTAL_ROWS:
        raise _card_error("horizontal_content_list holds at most 6 rows")
    if len(card.get("jump_list", [])) > MAX_JUMPS:
        raise _card_error("jump_list holds at most 3 links")
    menu = card.get("action_menu")
    if menu is not None:
        actions = menu.get("action_list") if isinstance(menu, dict) else None
        if not isinstance(actions, list) or not 1 <= len(actions) <= MAX_ACTIONS:
            raise _card_error("action_menu.action_list holds 1 to 3 actions")
        for action in actions:
            _check_key(action.get("key") if isinstance(action, dict) else None, "action_menu")


def _check_questions(card: dict[str, Any], card_type: str) -> None:
    if card_type == "vote_interaction" and not isinstance(card.get("checkbox"), dict):
        raise _card_error("checkbox is required for vote_interaction")
    if card_type == "multiple_interaction":
        selects = card.get("select_list")
        if not isinstance(selects, list) or not 1 <= len(selects) <= MAX_SELECTS:
            raise _card_error("select_list holds 1 to 3 questions")
    if card_type in ("vote_interaction", "multiple_interaction"):
        submit = card.get("submit_button")
        if not isinstance(submit, dict) or not submit.get("text"):
            raise _card_error("submit_button is required")
        _check_key(submit.get("key"), "submit_button")
