"""What every /api/v1 endpoint shares: who is calling (a service token with the endpoint's scope, or a
member's H5 session where the pages use the API), JSON errors, typed reading of a JSON body, cursor
pages, and idempotent writes (workflow/idempotency.py).

An error is `{"error": code, "message": Chinese text, "field": the field or null}` with a 4xx status.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web
from tortoise.models import Model
from tortoise.queryset import QuerySet

from infra.errors import UserError
from infra.runtime import runtime
from models import ServiceToken, Staff
from webviews.auth import STAFF, Handler, over_limit, session_staff
from workflow import idempotency
from workflow.errors import Invalid
from workflow.integration import acting_member
from workflow.tokens import Unauthenticated, authenticate

TOKEN = web.RequestKey("service_token", ServiceToken)
M = TypeVar("M", bound=Model)

# The error codes, by status: a caller branches on the code, a person reads the message.
CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    422: "idempotency_key_reused",
    429: "rate_limited",
}
MONEY_RE = re.compile(r"\d{1,8}(\.\d{1,2})?", re.ASCII)
DEFAULT_LIMIT = 50
MAX_BODY = 256 * 1024


def error_body(exc: UserError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": CODES.get(exc.status, "invalid"),
        "message": exc.message,
        "field": exc.field or None,
    }
    if len(exc.errors) > 1:
        body["errors"] = exc.errors
    return body


def error(exc: UserError) -> web.Response:
    return web.json_response(error_body(exc), status=exc.status, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def api(scope: str, *, member: bool = False, session: bool = False) -> Callable[[Handler], Handler]:
    """An API endpoint: a token with `scope` (acting as its member when `member`), or, with `session`, a
    member signed in on H5 (the pages' own calls). Refusals of any kind become JSON errors."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                secret = _bearer(request)
                if session and (secret is None or not scope):  # no scope: the pages' own, sessions only
                    staff = await session_staff(request)
                    if staff is None or not staff.active:
                        raise Unauthenticated("请从企业微信打开页面后再试")
                    who = staff.userid
                    request[STAFF] = staff
                else:
                    token = await authenticate(secret or "", scope)
                    request[TOKEN] = token
                    if member:
                        request[STAFF] = acting_member(token, token.staff)
                    who = f"token:{token.id}"
                refused = await over_limit(request, "api", who)
                if refused is not None:
                    return refused
                return await handler(request)
            except UserError as exc:
                return error(exc)

        return wrapper

    return decorate


def token_of(request: web.Request) -> ServiceToken:
    return request[TOKEN]


def token_or_none(request: web.Request) -> ServiceToken | None:
    return request.get(TOKEN)


def member_of(request: web.Request) -> Staff:
    return request[STAFF]


# Writes

Write = Callable[[web.Request, "Body"], Awaitable[tuple[int, dict[str, Any]]]]


def writes(handler: Write) -> Handler:
    """A write: its JSON body read and checked, and with an `Idempotency-Key`, applied once per key (a
    retry gets the stored answer, marked `Idempotency-Replayed: true`)."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise UserError(f"请求体不能超过 {MAX_BODY // 1024} KB")
        raw = await request.read()

        async def write() -> idempotency.Answer:
            try:
                status, data = await handler(request, Body.parse(raw))
            except UserError as exc:
                return idempotency.Answer(exc.status, error_body(exc))
            return idempotency.Answer(status, data)

        key = request.headers.get("Idempotency-Key")
        if key is None:
            answer = await write()
        else:
            answer = await idempotency.once(
                token=token_of(request),
                key=key,
                print_=idempotency.fingerprint(request.method, request.path_qs, raw),
                write=write,
            )
        headers = {"Idempotency-Replayed": "true"} if answer.replayed else None
        return json_response(answer.body, status=answer.status, headers=headers)

    return wrapper


def storable(text: str) -> bool:
    """Text a database keeps as given: no NUL (PostgreSQL's text refuses it) and no lone surrogate (JSON
    allows "\\ud800", UTF-8 does not)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Body:
    """A JSON object's fields, each read as its type or refused (400) naming the field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def parse(cls, raw: bytes) -> Body:
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            raise Invalid("请求体应为 JSON") from None
        if not isinstance(data, dict):
            raise Invalid("请求体应为 JSON 对象")
        return cls(data)

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            raise Invalid(f"请提供 {name}", name)
        return value

    def text(self, name: str, *, required: bool = False, max_len: int = 255) -> str:
        value = self._get(name, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise Invalid(f"{name} 应为字符串", name)
        if required and not value.strip():
            raise Invalid(f"请提供 {name}", name)
        if len(value) > max_len:
            raise Invalid(f"{name} 最多 {max_len} 字", name)
        if not storable(value):
            raise Invalid(f"{name} 含有无法保存的字符", name)
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int = 1, maximum: int = 2**31 - 1) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise Invalid(f"{name} 应为 {minimum} 到 {maximum} 之间的整数", name)
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self._get(name, required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad_date(name)
        except ValueError:
            return _bad_date(name)

    def money(self, name: str, *, required: bool = False) -> Decimal | None:
        """An amount as a string ("1280.00"), never a float: a float cannot hold every cent."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not MONEY_RE.fullmatch(value):
            raise Invalid(f'{name} 应为 0 到 99999999.99 之间、最多两位小数的金额（字符串），例如 "1280.00"', name)
        return Decimal(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise Invalid(f"{name} 应为 true 或 false", name)
        return value

    def strings(self, name: str, *, required: bool = False, max_items: int = 50) -> list[str]:
        value = self._get(name, required)
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > max_items or not all(isinstance(v, str) for v in value):
            raise Invalid(f"{name} 应为字符串列表（最多 {max_items} 项）", name)
        return value

    def objects(self, name: str, *, required: bool = False, max_items: int = 50) -> list[Body]:
        value = self._get(name, required)
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > max_items or not all(isinstance(v, dict) for v in value):
            raise Invalid(f"{name} 应为对象列表（最多 {max_items} 项）", name)
        return [Body(v) for v in value]


def _bad_date(name: str) -> date:
    raise Invalid(f"{name} 应为日期 YYYY-MM-DD", name)


# Cursor pages: ordered by id, the cursor an opaque token for "after this id".

CURSOR_PREFIX = "c1:"


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(CURSOR_PREFIX) and text[len(CURSOR_PREFIX) :].isdigit():
            return int(text[len(CURSOR_PREFIX) :])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Invalid("cursor 无效，请使用上一页返回的 next_cursor", "cursor")


def page_params(request: web.Request) -> tuple[int, int]:
    cursor = request.query.get("cursor", "")
    after = decode_cursor(cursor) if cursor else 0
    top = runtime().config.api.page_limit
    raw = request.query.get("limit", "")
    if not raw:
        return after, min(DEFAULT_LIMIT, top)
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        raise Invalid(f"limit 应为 1 到 {top} 之间的整数", "limit")
    return after, int(raw)


async def page(request: web.Request, query: QuerySet[M]) -> tuple[list[M], str | None]:
    """One page of the query in id order, and the cursor of the next page (None: this is the last)."""
    after, limit = page_params(request)
    rows = await query.filter(id__gt=after).order_by("id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].pk) if more and rows else None
