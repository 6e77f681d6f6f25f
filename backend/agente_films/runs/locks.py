"""One run per session across API instances: a Redis lock with expiry and renewal.

Embedded mode has one process, where RunManager's own table of active runs is the lock.
"""

from __future__ import annotations

from typing import Any, Protocol

# Delete or extend the lock only while it is still ours (a lock that expired may be someone else's).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RunLocks(Protocol):
    ttl_seconds: float

    async def acquire(self, session_id: str, owner: str) -> str | None:
        """None when acquired; else the current holder's owner string."""

    async def renew(self, session_id: str, owner: str) -> bool: ...

    async def release(self, session_id: str, owner: str) -> None: ...

    async def holder(self, session_id: str) -> str | None: ...


class LocalRunLocks:
    ttl_seconds = 0.0

    async def acquire(self, session_id: str, owner: str) -> str | None:
        return None

    async def renew(self, session_id: str, owner: str) -> bool:
        return True

    async def release(self, session_id: str, owner: str) -> None:
        return None

    async def holder(self, session_id: str) -> str | None:
        return None


class RedisRunLocks:
    def __init__(self, redis: Any, ttl_seconds: float) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    @staticmethod
    def _key(session_id: str) -> str:
        return f"agente_films:run_lock:{session_id}"

    async def acquire(self, session_id: str, owner: str) -> str | None:
        ttl_ms = int(self.ttl_seconds * 1000)
        if await self.redis.set(self._key(session_id), owner, nx=True, px=ttl_ms):
            return None
        return await self.holder(session_id) or "unknown"

    async def renew(self, session_id: str, owner: str) -> bool:
        return bool(await self._renew(keys=[self._key(session_id)], args=[owner, int(self.ttl_seconds * 1000)]))

    async def release(self, session_id: str, owner: str) -> None:
        await self._release(keys=[self._key(session_id)], args=[owner])

    async def holder(self, session_id: str) -> str | None:
        value = await self.redis.get(self._key(session_id))
        return value.decode() if isinstance(value, bytes) else value
