"""What a form field must hold, declared once: the server checks a value with it, and the H5 page
turns the same declaration into HTML constraint attributes that its script checks before sending.
The server stays the authority; the browser only saves a round trip.

`pattern` is matched against the whole value (stripped), as HTML's pattern attribute is; write it in
the common subset of Python's `re` and JavaScript's `v`-flag RegExp: ASCII classes (`[0-9]`, not
`\\d`, which Python widens to every script's digits), and `-` escaped inside a class."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class FieldRule:
    name: str
    required: str = ""  # the message when empty; empty means the field is optional
    max_length: int = 0
    pattern: str = ""
    mismatch: str = ""  # the message when the pattern does not match or the value is too long

    def check(self, value: str) -> str | None:
        """What is wrong with `value`, or None."""
        value = value.strip()
        if not value:
            return self.required or None
        if self.max_length and len(value) > self.max_length:
            return self.mismatch
        if self.pattern and not re.fullmatch(self.pattern, value):
            return self.mismatch
        return None


def check_fields(rules: tuple[FieldRule, ...], values: dict[str, str]) -> dict[str, str]:
    """Every field's error at once, in the rules' order."""
    errors = {}
    for rule in rules:
        problem = rule.check(values.get(rule.name, ""))
        if problem:
            errors[rule.name] = problem
    return errors


@dataclass(frozen=True)
class DateRule:
    name: str
    too_early: str
    malformed: str = "日期格式不正确"

    def check(self, value: date | None, *, earliest: date) -> str | None:
        return self.too_early if value is not None and value < earliest else None


# The new order (销售开单)
ORDER_NUMBER = FieldRule(
    "number",
    required="请填写订单号（与纸质订单一致）",
    max_length=32,
    pattern=r"[0-9A-Za-z][0-9A-Za-z\-]{0,31}",
    mismatch="订单号只能包含字母、数字和短横线，最多 32 位",
)
CUSTOMER_NAME = FieldRule("customer_name", required="请填写客户姓名", max_length=64, mismatch="客户姓名最多 64 字")
# Any separators, an optional +86 / 0086, then a mainland mobile number: what infra.security's
# normalize_phone and is_mobile accept, digit for digit.
PHONE = FieldRule(
    "phone",
    required="请填写客户手机号",
    max_length=20,
    pattern=r"[^0-9]*(?:(?:0[^0-9]*0[^0-9]*)?8[^0-9]*6[^0-9]*)?1[^0-9]*[3-9](?:[^0-9]*[0-9]){9}[^0-9]*",
    mismatch="手机号应为 11 位数字，以 1 开头",
)
ADDRESS = FieldRule("address", required="请填写地址", max_length=255, mismatch="地址最多 255 字")
ITEMS = FieldRule("items", required="请至少选择一件产品")
EXPECTED_MEASURE_DATE = DateRule("expected_measure_date", too_early="期望测量日期不能早于今天")
NEW_ORDER = (ORDER_NUMBER, CUSTOMER_NAME, PHONE, ADDRESS)

# Payments (客户确认与收款, 登记收款)
AMOUNT_PATTERN = r"¥?[0-9][0-9,]*(?:\.[0-9]+)?"
CONTRACT_AMOUNT = FieldRule(
    "contract_amount", required="请填写合同金额", max_length=20, pattern=AMOUNT_PATTERN, mismatch="金额格式不正确"
)
AMOUNT = FieldRule(
    "amount", required="请填写本次收款金额", max_length=20, pattern=AMOUNT_PATTERN, mismatch="金额格式不正确"
)
