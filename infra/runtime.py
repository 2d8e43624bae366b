"""What the workflow needs from the running system (links, the PII vault, files, chat state).

Built once by the app factory or the worker from the config, and torn down with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from infra.bucket import open_backend
from infra.config import Config
from infra.kv import KeyValueStore
from infra.ratelimit import RateLimits
from infra.security import PiiVault
from infra.storage import FileStore

# The query flag on a card's link: the page signs the member in through WeCom OAuth even if this
# browser holds a session (the console's one browser plays every member).
SIGN_IN = "signin"


@dataclass(frozen=True)
class Links:
    public_url: str
    oauth_url: str
    corp_id: str
    agent_id: int

    def h5(self, path: str, **query: str | int) -> str:
        url = self.public_url.rstrip("/") + path
        return url + ("?" + urlencode(query) if query else "")

    def oauth(self, path: str, **query: str | int) -> str:
        """A link for a card: to the page itself, asking it to sign the member in afresh. Relay starts
        the WeCom OAuth from there, so it can bind a random `state` to the browser first (91022)."""
        return self.h5(path, **query, **{SIGN_IN: 1})

    def wecom_oauth(self, target: str, state: str) -> str:
        """WeCom's OAuth URL that comes back to `target` (a full URL) with a code and this state."""
        return (
            f"{self.oauth_url}?appid={self.corp_id}&redirect_uri={quote(target, safe='')}"
            f"&response_type=code&scope=snsapi_base&state={quote(state, safe='')}&agentid={self.agent_id}"
            "#wechat_redirect"
        )


@dataclass
class Runtime:
    config: Config
    links: Links
    vault: PiiVault
    files: FileStore
    kv: KeyValueStore
    limits: RateLimits
    # Draws the managers' chart from its cards.charts.ChartData; None means cards.charts.draw_chart. A seam
    # for tests, which hold a drawing to show that nothing else waits on it.
    draw_chart: Callable[..., bytes] | None = None


_current: Runtime | None = None


def build_runtime(config: Config, kv: KeyValueStore) -> Runtime:
    global _current
    _current = Runtime(
        config=config,
        links=Links(
            public_url=config.server.public_url,
            oauth_url=config.wecom.oauth_url,
            corp_id=config.wecom.corp_id,
            agent_id=config.wecom.agent_id,
        ),
        vault=PiiVault(config.security.pii_key),
        files=FileStore(
            open_backend(config.storage),
            max_image_bytes=config.storage.max_image_bytes,
            max_file_bytes=config.storage.max_file_bytes,
        ),
        kv=kv,
        limits=RateLimits(config.redis.url),
    )
    return _current


def runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("Relay's runtime is not built: start it through the app factory or the worker")
    return _current
