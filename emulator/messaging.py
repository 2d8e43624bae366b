"""message/send and message/update_template_card: validate, then deliver into members' chats."""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from emulator import errors
from emulator.chat import INTERACTIVE_CARD_TYPES, ChatLog
from emulator.clock import Clock
from emulator.codes import OneUseCodes
from emulator.directory import Directory
from emulator.errors import WeComError
from emulator.media import MediaStore
from emulator.validation import check_agentid, check_message, check_template_card

MAX_TOUSER = 1000
DEFAULT_DUPLICATE_INTERVAL = 1800
MAX_DUPLICATE_INTERVAL = 4 * 3600
RESPONSE_CODE_TTL = 72 * 3600


@dataclass(frozen=True)
class CardScope:
    """What a response_code may update: one message, for these members."""

    msgid: str
    userids: tuple[str, ...]


@dataclass
class Recipients:
    userids: list[str] = field(default_factory=list)
    invalid: dict[str, list[str]] = field(default_factory=dict)  # invaliduser/invalidparty/invalidtag

    def invalid_fields(self) -> dict[str, str]:
        return {name: "|".join(values) for name, values in self.invalid.items() if values}


def _split(raw: Any) -> list[str]:
    return [part.strip() for part in str(raw or "").split("|") if part.strip()]


def dedupe_key(body: dict[str, Any], msgtype: str, *, strict: bool = False) -> str:
    """Same content to the same recipients counts as the same message; strictly, the same request JSON."""
    if strict:
        return json.dumps(body, sort_keys=True, ensure_ascii=False)
    scope = {name: sorted(_split(body.get(name))) for name in ("touser", "toparty", "totag")}
    return json.dumps([msgtype, body.get(msgtype), scope], sort_keys=True, ensure_ascii=False)


class MemberLimit:
    """WeCom's per-member limit on one app's messages (90454): beyond it a message is answered errcode 0
    and silently never arrives. A moving window, the strictest reading of "30 a minute"."""

    def __init__(self, clock: Clock, *, per_minute: int = 0, per_hour: int = 0) -> None:
        self._clock = clock
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._received: dict[str, deque[float]] = {}
        self.delivered: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()

    def admit(self, userid: str) -> bool:
        """Count one message to this member; False when it is over the limit (dropped)."""
        if not (self.per_minute or self.per_hour):
            self.delivered[userid] += 1
            return True
        now = self._clock.now()
        received = self._received.setdefault(userid, deque())
        while received and received[0] <= now - 3600:
            received.popleft()
        last_minute = sum(1 for t in received if t > now - 60)
        if (self.per_minute and last_minute >= self.per_minute) or (self.per_hour and len(received) >= self.per_hour):
            self.dropped[userid] += 1
            return False
        received.append(now)
        self.delivered[userid] += 1
        return True


def duplicate_interval(body: dict[str, Any]) -> int | None:
    """The interval in seconds when the sender asked for a duplicate check, else None."""
    try:
        enabled = int(body.get("enable_duplicate_check", 0) or 0) == 1
        interval = int(body.get("duplicate_check_interval", DEFAULT_DUPLICATE_INTERVAL))
    except (TypeError, ValueError):
        raise WeComError(errors.INVALID_PARAMETER, "duplicate check fields") from None
    return min(interval, MAX_DUPLICATE_INTERVAL) if enabled else None


class MessageService:
    def __init__(
        self,
        *,
        agent_id: int,
        directory: Directory,
        chats: ChatLog,
        media: MediaStore,
        response_codes: OneUseCodes[CardScope],
        clock: Clock,
        strict_duplicate_check: bool = False,
        member_limit: MemberLimit | None = None,
    ) -> None:
        self._agent_id = agent_id
        self._directory = directory
        self._chats = chats
        self._media = media
        self._response_codes = response_codes
        self._clock = clock
        self.strict_duplicate_check = strict_duplicate_check
        self.member_limit = member_limit or MemberLimit(clock)
        self._task_ids: set[str] = set()  # unique per app, forever
        self._recent: dict[str, tuple[float, str]] = {}  # dedupe key -> (sent at, msgid)

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        check_agentid(body.get("agentid"), self._agent_id)
        msgtype = check_message(body, lambda media_id: self._media.get(media_id) is not None)
        recipients = self._resolve(body)
        if not recipients.userids:
            raise WeComError(errors.ALL_RECIPIENTS_INVALID, **recipients.invalid_fields())
        interval = duplicate_interval(body)
        key = dedupe_key(body, msgtype, strict=self.strict_duplicate_check)
        if interval is not None and (earlier := self._recent_duplicate(key, interval)) is not None:
            # Not delivered again; WeCom still answers 0. The earlier msgid is the natural answer.
            return {"errcode": 0, "errmsg": "ok", **recipients.invalid_fields(), "msgid": earlier}
        card = body.get("template_card") if msgtype == "template_card" else None
        task_id = str(card.get("task_id") or "") if card else ""
        if task_id and task_id in self._task_ids:
            raise WeComError(errors.TASK_ID_EXISTS, task_id)
        msgid = self._deliver(body, recipients.userids)
        if task_id:
            self._task_ids.add(task_id)
        self._recent[key] = (self._clock.now(), msgid)
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", **recipients.invalid_fields(), "msgid": msgid}
        if card and card.get("card_type") in INTERACTIVE_CARD_TYPES:
            answer["response_code"] = self.issue_response_code(msgid, tuple(recipients.userids))
        return answer

    def issue_response_code(self, msgid: str, userids: tuple[str, ...]) -> str:
        return self._response_codes.issue(CardScope(msgid=msgid, userids=userids))

    def _recent_duplicate(self, key: str, interval: int) -> str | None:
        earlier = self._recent.get(key)
        if earlier is None or self._clock.now() - earlier[0] >= interval:
            return None
        return earlier[1]

    def _resolve(self, body: dict[str, Any]) -> Recipients:
        result = Recipients()
        touser = _split(body.get("touser"))
        if len(touser) > MAX_TOUSER:
            raise WeComError(errors.INVALID_USERID_LIST_SIZE)
        if touser == ["@all"]:
            result.userids = [u.userid for u in self._directory.all()]
            return result
        for raw in touser:
            user = self._directory.get(raw)
            self._add(result, user.userid if user else None, "invaliduser", raw.lower())
        for raw in _split(body.get("toparty")):
            members = self._directory.in_department(int(raw)) if raw.isdigit() else []
            if not members:
                result.invalid.setdefault("invalidparty", []).append(raw)
            for member in members:
                self._add(result, member.userid, "invalidparty", raw)
        # The emulator has no tags: every tag is unknown.
        result.invalid["invalidtag"] = _split(body.get("totag"))
        return result

    @staticmethod
    def _add(result: Recipients, userid: str | None, invalid_field: str, raw: str) -> None:
        if userid is None:
            result.invalid.setdefault(invalid_field, []).append(raw)
        elif userid not in result.userids:
            result.userids.append(userid)

    def _deliver(self, body: dict[str, Any], userids: list[str]) -> str:
        msgid = secrets.token_urlsafe(32)
        for userid in userids:
            if not self.member_limit.admit(userid):
                continue  # over the member's limit: gone, and the sender is not told
            self._chats.append(userid=userid, direction="out", payload=body, msgid=msgid, time=int(time.time()))
        return msgid

    def update_template_card(self, body: dict[str, Any]) -> dict[str, Any]:
        check_agentid(body.get("agentid"), self._agent_id)
        scope = self._response_codes.peek(str(body.get("response_code") or ""))
        if scope is None:
            raise WeComError(errors.INVALID_RESPONSE_CODE)
        rewrite = self._card_rewrite(body)
        targets, invalid = self._update_targets(body, scope)
        if not targets:
            raise WeComError(errors.ALL_RECIPIENTS_INVALID, invaliduser=invalid)
        self._response_codes.consume(str(body["response_code"]))
        for userid in targets:
            self.rewrite_user_card(userid, scope.msgid, rewrite)
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if invalid:
            answer["invaliduser"] = invalid  # an array here, like the request's userids
        return answer

    @staticmethod
    def _card_rewrite(body: dict[str, Any]) -> dict[str, Any]:
        """Either {"replace_name": ...} or {"template_card": ...}, validated."""
        button = body.get("button")
        if isinstance(button, dict) and button.get("replace_name"):
            return {"replace_name": str(button["replace_name"])}
        card = body.get("template_card")
        if card is not None:
            check_template_card(card, task_id_given_elsewhere=True)
            return {"template_card": card}
        raise WeComError(errors.INVALID_PARAMETER, "button.replace_name or template_card is required")

    def _update_targets(self, body: dict[str, Any], scope: CardScope) -> tuple[list[str], list[str]]:
        if int(body.get("atall", 0) or 0) == 1:
            return list(scope.userids), []
        requested: list[str] = []
        invalid: list[str] = []
        for raw in body.get("userids") or []:
            user = self._directory.get(str(raw))
            if user is None or user.userid not in scope.userids:
                invalid.append(str(raw).lower())
            else:
                requested.append(user.userid)
        for party in body.get("partyids") or []:
            members = self._directory.in_department(int(party)) if str(party).isdigit() else []
            requested.extend(m.userid for m in members if m.userid in scope.userids)
        return list(dict.fromkeys(requested)), invalid

    def rewrite_user_card(self, userid: str, msgid: str, rewrite: dict[str, Any]) -> bool:
        entry = self._chats.find(userid, msgid)
        if entry is None or entry.card is None:
            return False
        current = entry.payload["template_card"]
        if "replace_name" in rewrite:
            card = copy.deepcopy(current)
            # The buttons give way to one grey, disabled label (the card's replace_text).
            card.pop("button_list", None)
            card.pop("submit_button", None)
            card["replace_text"] = rewrite["replace_name"]
        else:
            card = copy.deepcopy(rewrite["template_card"])
            if current.get("task_id"):
                card["task_id"] = current["task_id"]
        self._chats.rewrite_card(entry, card)
        return True
