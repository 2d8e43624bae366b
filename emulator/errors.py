"""WeCom's error codes (global list, 90313) and the exception the API handlers raise.

Codes the protocol doc does not name were taken from the global list; the choice is
noted next to each one.
"""

from __future__ import annotations

from typing import Any

OK = 0
INVALID_SECRET = 40001
INVALID_MEDIA_TYPE = 40005  # 不合法的type参数 (media/upload ?type=)
INVALID_FILE_SIZE = 40006  # 不合法的文件大小: used for files of 5 bytes or less
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_OAUTH_CODE = 40029
INVALID_USERID_LIST_SIZE = 40032  # more than 1000 userids in touser
INVALID_AGENTID = 40056  # agentid that is not an integer
INVALID_PARAMETER = 40058  # 不合法的参数: every template_card rule the doc gives no code for
MISSING_TOKEN = 41001
MISSING_CORPID = 41002
MISSING_SECRET = 41004
MISSING_MEDIA_ID = 41006
MISSING_OAUTH_CODE = 41008
MISSING_USERID = 41009
MISSING_URL = 41010
MISSING_AGENTID = 41011
MISSING_TITLE = 41016
MISSING_DESCRIPTION = 41033
TOKEN_EXPIRED = 42001
TASK_ID_EXISTS = 42014
EMPTY_MEDIA = 44001
EMPTY_CONTENT = 44004
MEDIA_TOO_LARGE = 45001
CONTENT_TOO_LONG = 45002
TOO_MANY_ARTICLES = 45008
RATE_LIMITED = 45009
INVALID_RESPONSE_CODE = 60140
USER_NOT_FOUND = 60111
INVALID_TAG_ID = 40068
API_FORBIDDEN = 48002  # user/list_id: only the contact-sync secret (通讯录同步) may call it (96067)
DEPARTMENT_NOT_FOUND = 60003
INVALID_PARTY_ID = 60123
ALL_RECIPIENTS_INVALID = 81013
# A token belongs to one app; WeCom answers this for another app's agentid.
OTHER_AGENT = 301002

ERRMSG: dict[int, str] = {
    OK: "ok",
    INVALID_SECRET: "invalid credential",
    INVALID_MEDIA_TYPE: "invalid media type",
    INVALID_FILE_SIZE: "invalid file size",
    INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MSGTYPE: "invalid message type",
    INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_OAUTH_CODE: "invalid code",
    INVALID_USERID_LIST_SIZE: "invalid userid list size",
    INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid parameter",
    MISSING_TOKEN: "access_token missing",
    MISSING_CORPID: "corpid missing",
    MISSING_SECRET: "corpsecret missing",
    MISSING_MEDIA_ID: "media_id missing",
    MISSING_OAUTH_CODE: "code missing",
    MISSING_USERID: "userid missing",
    MISSING_URL: "url missing",
    MISSING_AGENTID: "agentid missing",
    MISSING_TITLE: "title missing",
    MISSING_DESCRIPTION: "description missing",
    TOKEN_EXPIRED: "access_token expired",
    TASK_ID_EXISTS: "task_id exists",
    EMPTY_MEDIA: "empty media data",
    EMPTY_CONTENT: "empty content",
    MEDIA_TOO_LARGE: "media size out of limit",
    CONTENT_TOO_LONG: "content size out of limit",
    TOO_MANY_ARTICLES: "article size out of limit",
    RATE_LIMITED: "api freq out of limit",
    INVALID_RESPONSE_CODE: "invalid response_code",
    USER_NOT_FOUND: "userid not found",
    INVALID_TAG_ID: "invalid tagid",
    API_FORBIDDEN: "api forbidden",
    DEPARTMENT_NOT_FOUND: "department not found",
    INVALID_PARTY_ID: "invalid party id",
    ALL_RECIPIENTS_INVALID: "user & party & tag all invalid",
    OTHER_AGENT: "not allow operate another agent with this accesstoken.",
}


class WeComError(Exception):
    """An API answer with a non-zero errcode; `extra` fields go into the JSON too."""

    def __init__(self, errcode: int, detail: str = "", **extra: Any) -> None:
        self.errcode = errcode
        base = ERRMSG.get(errcode, "error")
        self.errmsg = f"{base}, hint: [{detail}]" if detail else base
        self.extra = extra
        super().__init__(f"{errcode} {self.errmsg}")

    def to_json(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg, **self.extra}
