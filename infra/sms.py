"""The SMS provider behind a small interface, and its one real adapter: Tencent Cloud SMS (SendSms,
API 2021-01-11, TC3-HMAC-SHA256 signing, sms.tencentcloudapi.com).

aiohttp with the documented TC3 signing rather than tencentcloud-sdk-python-sms: the SDK is synchronous
(a thread per send), adds a dependency tree, and hides whether a failed call reached Tencent, which is
exactly what deciding "retry or not" needs; the signing is twenty lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

SERVICE = "sms"
VERSION = "2021-01-11"
ACTION = "SendSms"


class Outcome(StrEnum):
    SENT = "sent"
    REFUSED = "refused"  # the provider said no: nothing went out; trying again would not help
    RETRY = "retry"  # nothing went out, and it may go later (rate limits, no connection)
    UNKNOWN = "unknown"  # it may have gone out


@dataclass(frozen=True)
class SmsResult:
    outcome: Outcome
    code: str = ""  # the provider's code ("Ok", "LimitExceeded.PhoneNumberDailyLimit", ...)
    detail: str = ""
    serial: str = ""


class SmsProvider(Protocol):
    async def send(self, *, phone: str, template_id: str, params: list[str]) -> SmsResult: ...

    async def close(self) -> None: ...


# Codes that say the text was not sent and may be later (frequency limits, the API's rate limit).
RETRY_CODES = (
    "RequestLimitExceeded",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
    "LimitExceeded.PhoneNumberOneHourLimit",
    "LimitExceeded.DeliveryFrequencyLimit",
    "AuthFailure.SignatureExpire",  # our clock: the request was refused before anything was done
)
# Codes after which nobody can say whether it went out (InternalError.Timeout: 请求下发短信超时).
UNKNOWN_CODES = ("InternalError",)


def classify(code: str) -> Outcome:
    if code == "Ok":
        return Outcome.SENT
    if any(code == c or code.startswith(c + ".") for c in RETRY_CODES):
        return Outcome.RETRY
    if any(code == c or code.startswith(c + ".") for c in UNKNOWN_CODES):
        return Outcome.UNKNOWN
    return Outcome.REFUSED


def tc3_authorization(
    *, secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int, content_type: str
) -> str:
    """The Authorization header of TencentCloud API v3 (TC3-HMAC-SHA256), POST with a JSON body."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_headers = f"content-type:{content_type}\nhost:{host}\n"
    signed_headers = "content-type;host"
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(("TC3" + secret_key).encode(), date), SERVICE), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


class TencentSms:
    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        region: str,
        endpoint: str,
        timeout: float = 10.0,
    ) -> None:
        self.secret_id, self._secret_key = secret_id, secret_key
        self.sdk_app_id, self.sign_name, self.region = sdk_app_id, sign_name, region
        self.endpoint = endpoint.rstrip("/") + "/"
        self.host = urlsplit(self.endpoint).netloc
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, *, phone: str, template_id: str, params: list[str]) -> SmsResult:
        body = {
            "PhoneNumberSet": [f"+86{phone}"],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": template_id,
            "TemplateParamSet": params,
        }
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        content_type = "application/json; charset=utf-8"
        headers = {
            "Authorization": tc3_authorization(
                secret_id=self.secret_id,
                secret_key=self._secret_key,
                host=self.host,
                payload=payload,
                timestamp=timestamp,
                content_type=content_type,
            ),
            "Content-Type": content_type,
            "Host": self.host,
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self.endpoint, data=payload, headers=headers) as resp:
                status, raw = resp.status, await resp.read()
        except aiohttp.ClientConnectorError as exc:
            return SmsResult(Outcome.RETRY, detail=f"no connection: {type(exc).__name__}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            return SmsResult(Outcome.UNKNOWN, detail=f"{type(exc).__name__}")
        if status != 200:
            return SmsResult(Outcome.UNKNOWN, detail=f"HTTP {status}")
        try:
            response = json.loads(raw)["Response"]
        except (ValueError, KeyError, TypeError):
            return SmsResult(Outcome.UNKNOWN, detail="unreadable answer")
        error = response.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code", ""))
            return SmsResult(classify(code), code=code, detail=str(error.get("Message", ""))[:200])
        statuses = response.get("SendStatusSet") or []
        if not statuses or not isinstance(statuses[0], dict):
            return SmsResult(Outcome.UNKNOWN, detail="no SendStatusSet")
        first = statuses[0]
        code = str(first.get("Code", ""))
        return SmsResult(
            classify(code), code=code, detail=str(first.get("Message", ""))[:200], serial=str(first.get("SerialNo", ""))
        )


def open_provider(config: object) -> SmsProvider | None:
    """The configured provider (config is infra.config.SmsConfig), or None when SMS is off."""
    provider = getattr(config, "provider", "")
    if not provider:
        return None
    if provider != "tencent":
        raise ValueError(f'unknown sms.provider {provider!r}: only "tencent" is built in')
    return TencentSms(
        secret_id=config.secret_id,  # type: ignore[attr-defined]
        secret_key=config.secret_key,  # type: ignore[attr-defined]
        sdk_app_id=config.sdk_app_id,  # type: ignore[attr-defined]
        sign_name=config.sign_name,  # type: ignore[attr-defined]
        region=config.region,  # type: ignore[attr-defined]
        endpoint=config.endpoint,  # type: ignore[attr-defined]
        timeout=config.request_timeout,  # type: ignore[attr-defined]
    )
