"""Who may call, and how often: API-key authentication and the per-key rate limit."""

from __future__ import annotations

import time

from dtbot import logs
from dtbot.cache import Cache
from dtbot.errors import CacheUnavailable, PermissionDenied, RateLimited
from dtbot.metrics import RATE_LIMITED
from dtbot.services.keys import KeyService, Principal
from dtbot.services.settings import SettingsService

_log = logs.get("access")
_WARN_EVERY = 30.0


class AccessService:
    """Admits a request: a valid key, within its requests per minute."""

    def __init__(self, keys: KeyService, settings: SettingsService, cache: Cache) -> None:
        self._keys = keys
        self._settings = settings
        self._cache = cache
        self._warned_at = 0.0

    async def admit(self, secret: str | None) -> Principal:
        """The caller's principal; raises 40001 for a bad key and 42901 (with Retry-After) over the limit."""
        principal = await self._keys.authenticate(secret)
        await self.limit(f"key:{principal.key_id}", self._settings.current.rate_limit_per_minute)
        return principal

    async def limit(self, bucket: str, per_minute: int) -> None:
        """Count one request in `bucket`; fails open, with a warning, while Redis is down."""
        try:
            decision = await self._cache.hit(f"rate:{bucket}", per_minute, 60)
        except CacheUnavailable:
            now = time.monotonic()
            if now - self._warned_at > _WARN_EVERY:
                self._warned_at = now
                _log.warning("Redis is unreachable: rate limits are not enforced until it is back")
            return
        if not decision.allowed:
            RATE_LIMITED.inc()
            raise RateLimited(
                f"请求频率超限: at most {per_minute} requests per minute; retry in {decision.retry_after}s",
                headers={"Retry-After": str(decision.retry_after)},
            )

    @staticmethod
    def require_admin(principal: Principal) -> None:
        """Raise 403 unless the key is an admin key."""
        if not principal.is_admin:
            raise PermissionDenied("权限不足: this needs an admin key")
