"""A local Tencent Cloud SMS (SendSms, API 2021-01-11) for the tests and the demo: it checks the
TC3-HMAC-SHA256 signature and the request as Tencent documents them (382/55981 SendSms, 382/52075
error codes, the API 3.0 signature v3), records what it would have sent, and can be told to answer an
error code. It lives beside the WeCom emulator because it is the same kind of thing (an outside system
played locally), and, like it, imports nothing of Relay: its signature check is written here again, so a
mistake in Relay's signing cannot hide behind the same mistake in the check.

Run alone: python -m emulator.tencent_sms --port 8095 (prints the keys to configure [sms] with).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from aiohttp import web

VERSION = "2021-01-11"
SERVICE = "sms"
PHONE_RE = re.compile(r"^\+861[3-9]\d{9}$")
SHANGHAI = timezone(timedelta(hours=8))
STATE = web.AppKey("tencent_sms", "TencentSmsStandIn")


@dataclass
class SentSms:
    phone: str  # E.164, as sent
    template_id: str
    params: list[str]
    sign_name: str
    serial: str
    time: float


@dataclass
class Fault:
    code: str  # an error code, or "timeout" (the text goes out, the answer never comes in time)
    whole_request: bool  # Response.Error for the request, not a SendStatus for the number


@dataclass
class TencentSmsStandIn:
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    templates: dict[str, int]  # template id -> how many parameters it takes
    daily_limit: int = 10  # texts one number may get per day (LimitExceeded.PhoneNumberDailyLimit)
    hold_seconds: float = 30.0  # how long a "timeout" fault holds the answer
    sent: list[SentSms] = field(default_factory=list)
    requests: int = 0
    faults: list[Fault] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # error code -> times answered

    def fail_next(self, code: str, *, count: int = 1, whole_request: bool = False) -> None:
        """The next `count` requests meet this error code (or "timeout")."""
        self.faults.extend(Fault(code, whole_request) for _ in range(count))

    def sent_to(self, phone: str) -> list[SentSms]:
        digits = re.sub(r"\D", "", phone)[-11:]
        return [s for s in self.sent if s.phone.endswith(digits)]

    def _today(self, phone: str) -> int:
        day = datetime.now(SHANGHAI).date()
        return sum(1 for s in self.sent if s.phone == phone and datetime.fromtimestamp(s.time, SHANGHAI).date() == day)


def _error(code: str, message: str) -> web.Response:
    body = {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}}
    return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _expected_signature(
    stand_in: TencentSmsStandIn, request: web.Request, payload: bytes, signed: list[str], date: str, timestamp: str
) -> str:
    headers = "".join(f"{name}:{request.headers.get(name, '').strip().lower()}\n" for name in signed)
    canonical = f"POST\n/\n\n{headers}\n{';'.join(signed)}\n{hashlib.sha256(payload).hexdigest()}"
    scope = f"{date}/{SERVICE}/tc3_request"
    string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + stand_in.secret_key).encode()
    for part in (date, SERVICE, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _check_signature(stand_in: TencentSmsStandIn, request: web.Request, payload: bytes) -> web.Response | None:
    auth = request.headers.get("Authorization", "")
    match = re.fullmatch(
        r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        auth,
    )
    if not match:
        return _error("AuthFailure.InvalidAuthorization", "Authorization is not TC3-HMAC-SHA256")
    secret_id, date, service, signed, signature = match.groups()
    if secret_id != stand_in.secret_id:
        return _error("AuthFailure.SecretIdNotFound", "The SecretId is not found")
    timestamp = request.headers.get("X-TC-Timestamp", "")
    if not timestamp.isdigit():
        return _error("MissingParameter", "X-TC-Timestamp")
    if abs(time.time() - int(timestamp)) > 300:
        return _error("AuthFailure.SignatureExpire", "Timestamp and server time differ by more than five minutes")
    if date != datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") or service != SERVICE:
        return _error("AuthFailure.SignatureFailure", "credential scope does not match")
    names = signed.split(";")
    if "content-type" not in names or "host" not in names:
        return _error("AuthFailure.SignatureFailure", "content-type and host must be signed")
    if not hmac.compare_digest(signature, _expected_signature(stand_in, request, payload, names, date, timestamp)):
        return _error("AuthFailure.SignatureFailure", "The provided credentials could not be validated")
    return None


async def send_sms(request: web.Request) -> web.Response:
    stand_in = request.app[STATE]
    stand_in.requests += 1
    payload = await request.read()
    if not request.headers.get("Content-Type", "").startswith("application/json"):
        return _error("InvalidParameter", "Content-Type must be application/json")
    if request.headers.get("X-TC-Action") != "SendSms":
        return _error("InvalidAction", "only SendSms is played here")
    if request.headers.get("X-TC-Version") != VERSION:
        return _error("NoSuchVersion", f"version must be {VERSION}")
    if not request.headers.get("X-TC-Region"):
        return _error("MissingParameter", "X-TC-Region")
    refused = _check_signature(stand_in, request, payload)
    if refused is not None:
        return refused
    try:
        body = json.loads(payload)
    except ValueError:
        return _error("FailedOperation.FailResolvePacket", "the body is not JSON")
    phones, params = body.get("PhoneNumberSet"), body.get("TemplateParamSet", [])
    if not isinstance(phones, list) or not phones:
        return _error("MissingParameter", "PhoneNumberSet")
    if len(phones) > 200:
        return _error("InvalidParameterValue.PhoneNumberCountLimit", "at most 200 numbers")
    if body.get("SmsSdkAppId") != stand_in.sdk_app_id:
        return _error("InvalidParameterValue.SdkAppIdNotExist", "SmsSdkAppId does not exist")
    if body.get("SignName") != stand_in.sign_name:
        return _error("FailedOperation.SignatureIncorrectOrUnapproved", "signature not approved")
    template = str(body.get("TemplateId", ""))
    if template not in stand_in.templates:
        return _error("FailedOperation.TemplateIncorrectOrUnapproved", "template not approved")
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        return _error("InvalidParameterValue.TemplateParameterFormatError", "TemplateParamSet must be strings")
    if len(params) != stand_in.templates[template]:
        return _error("InvalidParameterValue.TemplateParameterFormatError", "parameter count does not match")
    fault = stand_in.faults.pop(0) if stand_in.faults else None
    if fault is not None and fault.whole_request and fault.code != "timeout":
        stand_in.refused[fault.code] += 1
        return _error(fault.code, "told to fail")
    statuses = []
    for phone in phones:
        phone = str(phone)
        code, message = "Ok", "send success"
        if fault is not None and fault.code != "timeout":
            code, message = fault.code, "told to fail"
        elif not PHONE_RE.match(phone):
            code, message = "InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"
        elif stand_in._today(phone) >= stand_in.daily_limit:
            code, message = (
                "LimitExceeded.PhoneNumberDailyLimit",
                "the number of sms messages sent from a single mobile number every day exceeds the upper limit",
            )
        serial = ""
        if code == "Ok":
            serial = f"2640:{secrets.randbelow(10**12)}"
            stand_in.sent.append(SentSms(phone, template, list(params), stand_in.sign_name, serial, time.time()))
        else:
            stand_in.refused[code] += 1
        statuses.append(
            {
                "SerialNo": serial,
                "PhoneNumber": phone,
                "Fee": 1 if code == "Ok" else 0,
                "SessionContext": "",
                "Code": code,
                "Message": message,
                "IsoCode": "CN",
            }
        )
    if fault is not None and fault.code == "timeout":
        await asyncio.sleep(stand_in.hold_seconds)  # sent, but the answer comes too late
    body = {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}
    return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def create_app(stand_in: TencentSmsStandIn) -> web.Application:
    app = web.Application()
    app[STATE] = stand_in
    app.router.add_post("/", send_sms)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Tencent Cloud SMS (SendSms 2021-01-11)")
    parser.add_argument("--port", type=int, default=8095)
    args = parser.parse_args()
    stand_in = TencentSmsStandIn(
        secret_id="AKIDlocalstandin",
        secret_key="local-stand-in-key",
        sdk_app_id="1400000000",
        sign_name="接力家居",
        templates={"1000001": 2},
    )
    print(
        f"[sms] provider=tencent endpoint=http://127.0.0.1:{args.port}/ secret_id={stand_in.secret_id} "
        f"secret_key={stand_in.secret_key} sdk_app_id={stand_in.sdk_app_id} sign_name={stand_in.sign_name} "
        "templates.milestone=1000001"
    )
    web.run_app(create_app(stand_in), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
