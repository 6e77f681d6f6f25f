"""A small JSON result cache for slow, idempotent look-ups (Wikipedia research today).

Two back ends behind one protocol:

* `MemoryResultCache`: per process, bounded, per-entry expiry. Good for one API instance and for tests.
* `RedisResultCache`: shared by every API instance. A cache is an optimisation, never a dependency, so any
  Redis failure is logged and treated as a miss (get) or a no-op (set); callers never see it.

Values are stored as JSON in both back ends so that a cached result behaves identically whichever one is
configured (and a caller mutating a returned dict cannot corrupt the cached copy).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cachetools import TLRUCache
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from agente_films.settings import Settings

logger = logging.getLogger(__name__)


@runtime_checkable
class ResultCache(Protocol):
    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None: ...

    async def close(self) -> None: ...


class MemoryResultCache:
    """Bounded in-process cache; each entry carries its own TTL."""

    def __init__(self, maxsize: int = 1024, timer: Callable[[], float] = time.monotonic) -> None:
        # Entries are (json_text, ttl_seconds); TLRU asks `_expires_at` for each entry's deadline, so
        # different callers can use different TTLs in one cache. `timer` is injectable for tests.
        self._entries: TLRUCache[str, tuple[str, float]] = TLRUCache(
            maxsize=maxsize, ttu=self._expires_at, timer=timer
        )

    @staticmethod
    def _expires_at(_key: str, entry: tuple[str, float], now: float) -> float:
        return now + entry[1]

    async def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        return None if entry is None else json.loads(entry[0])

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            return
        self._entries[key] = (json.dumps(value), float(ttl_seconds))

    async def close(self) -> None:
        self._entries.clear()


class RedisResultCache:
    """Redis-backed cache shared across API instances; failures degrade to a miss, never an error."""

    # After a failure, skip Redis for a while: with a blackholed Redis every call would otherwise pay the
    # full socket timeout (twice per look-up: get + set) and log the same warning over and over.
    RETRY_AFTER_SECONDS = 30.0

    def __init__(
        self,
        redis_url: str,
        prefix: str = "agente_films:cache:",
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefix = prefix
        self._timer = timer
        self._down_until = 0.0
        # 1 s timeouts and no retries: a cache that is slower than the look-up it saves is worse than none.
        # (redis-py's default retries 3 times with exponential backoff.)
        self._redis: Redis = Redis.from_url(
            redis_url,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )

    def _available(self) -> bool:
        return self._timer() >= self._down_until

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._down_until = self._timer() + self.RETRY_AFTER_SECONDS
        logger.warning(
            "Redis result cache %s failed (%s: %s); continuing without the cache for %.0f s",
            operation,
            type(exc).__name__,
            exc,
            self.RETRY_AFTER_SECONDS,
        )

    async def get(self, key: str) -> Any | None:
        if not self._available():
            return None
        try:
            raw = await self._redis.get(self._prefix + key)
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("get", exc)
            return None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            # A corrupt or foreign value under our prefix: treat as a miss; the next set overwrites it.
            logger.warning("Ignoring non-JSON value in Redis result cache for key %r", key)
            return None

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        if ttl_seconds <= 0 or not self._available():
            return
        payload = json.dumps(value)  # serialisation errors are caller bugs: let them surface
        try:
            await self._redis.set(self._prefix + key, payload, ex=int(ttl_seconds))
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("set", exc)

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("Closing the Redis result cache failed: %s", exc)


def make_result_cache(settings: Settings) -> ResultCache:
    """Redis when REDIS_URL is set (shared by all API instances), otherwise a per-process memory cache."""
    if settings.redis_url:
        return RedisResultCache(settings.redis_url)
    return MemoryResultCache()
