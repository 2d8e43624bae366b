"""access_token issue and check (gettoken, 91039)."""

from __future__ import annotations

import secrets

from emulator import errors
from emulator.clock import Clock
from emulator.errors import WeComError


class TokenStore:
    def __init__(self, clock: Clock, ttl: int) -> None:
        self._clock = clock
        self._ttl = ttl
        self._expires_at: dict[str, float] = {}
        self._current: str | None = None

    def issue(self) -> tuple[str, int]:
        """The token and its remaining seconds.

        WeCom answers the same token while it is valid, so a second process fetching
        a token does not invalidate the first one's; tokens handed out earlier stay
        valid until they expire or are expired on purpose.
        """
        now = self._clock.now()
        current = self._current
        if current is not None and self._expires_at[current] > now:
            return current, int(self._expires_at[current] - now)
        token = secrets.token_urlsafe(48)
        self._expires_at[token] = now + self._ttl
        self._current = token
        return token, self._ttl

    def check(self, token: str | None) -> None:
        if not token:
            raise WeComError(errors.MISSING_TOKEN)
        expires_at = self._expires_at.get(token)
        if expires_at is None:
            raise WeComError(errors.INVALID_TOKEN)
        if expires_at <= self._clock.now():
            raise WeComError(errors.TOKEN_EXPIRED)

    def expire_all(self) -> None:
        """Early invalidation, as WeCom may do: every known token answers 42001 from now on."""
        now = self._clock.now()
        for token in self._expires_at:
            self._expires_at[token] = min(self._expires_at[token], now)
        self._current = None
