"""The access log names what was asked for, never the secrets in it."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from relay.access_log import RedactingAccessLogger, redact

TOKEN = "eyJvIjo1LCJuIjoiTFMyMDI2MTEwNyJ9.aw-LIg.5gWiUJLdPlIk586QdCb"
CALLBACK = "msg_signature=abc&timestamp=1&nonce=9&echostr=xyz"


@pytest.mark.parametrize(
    ("path", "query", "shown"),
    [
        (f"/sign/{TOKEN}", "", "/sign/***"),
        (f"/sign/{TOKEN}/files/12", "thumb=1", "/sign/***/files/12?thumb=1"),
        (f"/c/{TOKEN}", "", "/c/***"),
        (f"/c/{TOKEN}/problem", "", "/c/***/problem"),
        (f"/c/{TOKEN}", "done=reschedule", "/c/***?done=reschedule"),
        (f"/c/{TOKEN}/files/3", "thumb=1", "/c/***/files/3?thumb=1"),
        ("/h5/orders/LS1", "code=CODE123&state=relay", "/h5/orders/LS1?code=***&state=relay"),
        ("/wecom/callback", CALLBACK, "/wecom/callback?msg_signature=***&timestamp=1&nonce=9&echostr=***"),
        ("/h5/orders", "q=LS&state=created", "/h5/orders?q=LS&state=created"),
    ],
)
def test_secrets_are_left_out(path: str, query: str, shown: str) -> None:
    assert redact(path, query) == shown


def test_the_logged_line_has_no_token_or_code(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("relay.access.test")
    access = RedactingAccessLogger(logger, "")
    request = make_mocked_request("GET", f"/sign/{TOKEN}?code=CODE123")
    with caplog.at_level(logging.INFO, logger="relay.access.test"):
        access.log(request, web.Response(status=200, text="ok"), 0.0123)
    line = caplog.records[-1].getMessage()
    assert TOKEN not in line and "CODE123" not in line
    assert '"GET /sign/***?code=***" 200' in line


def test_a_taken_callback_has_no_line_and_a_refused_one_has(caplog: pytest.LogCaptureFixture) -> None:
    # Thousands a second at a burst: counted at /metrics (relay_callbacks_total), not written one line each.
    logger = logging.getLogger("relay.access.test")
    access = RedactingAccessLogger(logger, "")
    with caplog.at_level(logging.INFO, logger="relay.access.test"):
        caplog.clear()
        access.log(make_mocked_request("POST", f"/wecom/callback?{CALLBACK}"), web.Response(status=200), 0.001)
        assert caplog.records == []
        access.log(make_mocked_request("POST", f"/wecom/callback?{CALLBACK}"), web.Response(status=403), 0.001)
        access.log(make_mocked_request("GET", f"/wecom/callback?{CALLBACK}"), web.Response(status=200), 0.001)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert '"POST /wecom/callback?msg_signature=***' in lines[0] and " 403 " in lines[0]
    assert '"GET /wecom/callback?msg_signature=***' in lines[1]  # the URL check WeCom makes on save
