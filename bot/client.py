"""The one WeCom API client: async (aiohttp), token shared by all processes, bounded retries.

Errors are sorted for the outbox: `WeComRetryable` (rate limit, 5xx, timeout, network) is tried again
later; `WeComError` (a real refusal, e.g. 81013 no valid recipient) is not.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp

from infra.kv import KeyValueStore

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40014, 42001, 41001}  # invalid / expired / missing token: refetch and retry
RATE_LIMITS = {45009, 45033}  # frequency limit / too many concurrent calls
SYSTEM_BUSY = {-1}


def canonical_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeComRetryable(Exception):
    """Try later: the call may or may not have been carried out."""

    def __init__(self, reason: str, *, rate_limited: bool = False, reached: bool = True) -> None:
        super().__init__(reason)
        self.rate_limited = rate_limited
        # False when WeCom surely did not carry the call out (refused by its rate limit, the token, or never
        # connected): a call that must not run twice (a mass-send task) may then be tried again.
        self.reached = reached


@dataclass(frozen=True)
class Media:
    data: bytes
    content_type: str
    filename: str


class TokenCache:
    """One access token per app, shared through the store; one process refreshes at a time."""

    def __init__(self, store: KeyValueStore, key: str) -> None:
        self._store = store
        self._key = f"wecom:token:{key}"
        self._lock_key = f"wecom:token-lock:{key}"

    async def get(self, fetch: Any) -> str:
        for _ in range(100):
            token = await self._store.get(self._key)
            if token:
                return token
            owner = secrets.token_hex(8)
            if await self._store.add(self._lock_key, owner, ttl=15):
                try:
                    # Another process may have stored one between our look and taking the lock.
                    token = await self._store.get(self._key)
                    if token:
                        return token
                    token, expires_in = await fetch()
                    # Refresh five minutes early so no call carries a token that dies in flight.
                    await self._store.set(self._key, token, ttl=max(60, expires_in - 300))
                    return token
                finally:
                    await self._store.delete(self._lock_key, if_value=owner)
            await asyncio.sleep(0.1)
        raise WeComRetryable("timed out waiting for another process to refresh the access token")

    async def invalidate(self, token: str) -> None:
        # Only if still current: another process may already have stored a fresh one.
        await self._store.delete(self._key, if_value=token)


class WeComClient:
    def __init__(
        self,
        *,
        api_base: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        store: KeyValueStore,
        timeout: float = 10.0,
    ) -> None:
        self.api_base = api_base.rstrip("/") + "/"
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._secret = secret
        self._tokens = TokenCache(store, f"{corp_id}:{agent_id}")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _fetch_token(self) -> tuple[str, int]:
        data = await self._request("GET", "gettoken", params={"corpid": self.corp_id, "corpsecret": self._secret})
        return data["access_token"], int(data.get("expires_in", 7200))

    async def _request(
        self, method: str, path: str, *, params: dict[str, str], json_body: Any = None, form: Any = None
    ) -> dict[str, Any]:
        headers = {}
        if json_body is not None:
            # Canonical JSON (sorted keys, no spaces): a message built again from its row is the same bytes,
            # which is what WeCom's duplicate check compares (90236).
            form = canonical_json(json_body)
            headers["Content-Type"] = "application/json"
        try:
            async with self.session.request(
                method, self.api_base + path, params=params, data=form, headers=headers
            ) as resp:
                if resp.status >= 500 or resp.status == 429:
                    raise WeComRetryable(f"{path}: HTTP {resp.status}")
                if resp.status != 200:
                    raise WeComError(-resp.status, f"{path}: HTTP {resp.status}")
                body = await resp.read()
        except aiohttp.ClientConnectorError as exc:
            raise WeComRetryable(f"{path}: {type(exc).__name__} {exc}", reached=False) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise WeComRetryable(f"{path}: {type(exc).__name__} {exc}") from exc
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise WeComRetryable(f"{path}: unreadable answer") from exc
        errcode = int(data.get("errcode", 0))
        if errcode in RATE_LIMITS:
            raise WeComRetryable(f"{path}: rate limited ({errcode})", rate_limited=True, reached=False)
        if errcode in SYSTEM_BUSY:
            raise WeComRetryable(f"{path}: system busy")
        if errcode != 0:
            raise WeComError(errcode, str(data.get("errmsg", "")))
        return data

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        form_factory: Any = None,
    ) -> dict[str, Any]:
        """Call an API with the access token; a rejected token is refetched at most twice."""
        for attempt in range(3):
            token = await self._tokens.get(self._fetch_token)
            try:
                return await self._request(
                    method,
                    path,
                    params={**(params or {}), "access_token": token},
                    json_body=json_body,
                    form=form_factory() if form_factory else None,
                )
            except WeComError as exc:
                if exc.errcode not in TOKEN_ERRORS:
                    raise
                log.info("access token rejected (%s), refetching", exc.errcode)
                await self._tokens.invalidate(token)
                if attempt == 2:
                    # Not a refusal of the call: it was never carried out, so the outbox tries again later.
                    raise WeComRetryable(
                        f"{path}: access token rejected three times ({exc.errcode})", reached=False
                    ) from exc
        raise AssertionError("unreachable")

    async def send_message(self, message: dict[str, Any]) -> dict[str, Any]:
        return await self.call("POST", "message/send", json_body={**message, "agentid": self.agent_id})

    async def update_template_card(self, update: dict[str, Any]) -> dict[str, Any]:
        return await self.call("POST", "message/update_template_card", json_body={**update, "agentid": self.agent_id})

    async def upload_media(self, kind: str, filename: str, data: bytes, content_type: str) -> str:
        """media/upload: a temporary media_id (3 days) to send an image or file with."""

        def form() -> aiohttp.FormData:
            body = aiohttp.FormData()
            body.add_field("media", data, filename=filename, content_type=content_type)
            return body

        result = await self.call("POST", "media/upload", params={"type": kind}, form_factory=form)
        return str(result["media_id"])

    # Customer contact (客户联系): the app must be one of 客户联系's 可调用应用 (92228, 92137, 92135).

    async def add_contact_way(self, *, user: str, state: str, remark: str = "") -> dict[str, Any]:
        """A 「联系我」 QR code of one member (type 1, scene 2) whose adds carry `state` (≤ 30 chars)."""
        body = {"type": 1, "scene": 2, "user": [user], "state": state, "skip_verify": True}
        if remark:
            body["remark"] = remark
        return await self.call("POST", "externalcontact/add_contact_way", json_body=body)

    async def send_welcome_msg(self, body: dict[str, Any]) -> dict[str, Any]:
        """The welcome to a new customer, with the event's welcome_code (once, within 20 s)."""
        return await self.call("POST", "externalcontact/send_welcome_msg", json_body=body)

    async def add_msg_template(self, body: dict[str, Any]) -> dict[str, Any]:
        """An enterprise mass-send task (企业群发) the sender confirms in their client: nothing is sent yet."""
        return await self.call("POST", "externalcontact/add_msg_template", json_body=body)

    async def get_user_by_code(self, code: str) -> str:
        data = await self.call("GET", "auth/getuserinfo", params={"code": code})
        userid = data.get("userid") or data.get("UserId")
        if not userid:
            raise WeComError(40029, "the code belongs to no member of this corp")
        return str(userid)

    async def get_media(self, media_id: str, *, max_bytes: int) -> Media:
        for attempt in range(3):
            token = await self._tokens.get(self._fetch_token)
            try:
                async with self.session.get(
                    self.api_base + "media/get", params={"access_token": token, "media_id": media_id}
                ) as resp:
                    if resp.status >= 500:
                        raise WeComRetryable(f"media/get: HTTP {resp.status}")
                    ctype = resp.headers.get("Content-Type", "")
                    if "json" in ctype or "text/plain" in ctype:
                        data = json.loads(await resp.read())
                        errcode = int(data.get("errcode", 0))
                        if errcode in TOKEN_ERRORS:
                            await self._tokens.invalidate(token)
                            if attempt < 2:
                                continue
                            raise WeComRetryable(f"media/get: access token rejected three times ({errcode})")
                        if errcode in RATE_LIMITS:
                            raise WeComRetryable("media/get: rate limited", rate_limited=True)
                        raise WeComError(errcode, str(data.get("errmsg", "")))
                    if resp.content_length is not None and resp.content_length > max_bytes:
                        raise MediaTooLarge(resp.content_length)
                    chunks = []
                    size = 0
                    async for chunk in resp.content.iter_chunked(64 * 1024):
                        size += len(chunk)
                        if size > max_bytes:
                            raise MediaTooLarge(size)
                        chunks.append(chunk)
                    filename = resp.content_disposition.filename if resp.content_disposition else ""
                    return Media(b"".join(chunks), ctype.split(";")[0].strip(), filename or "")
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise WeComRetryable(f"media/get: {type(exc).__name__}") from exc
        raise AssertionError("unreachable")


class MediaTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"media of {size} bytes is over the limit")
        self.size = size
