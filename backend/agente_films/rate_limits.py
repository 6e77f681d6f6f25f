"""Rate limits: requests per client address and per user, runs per user (an hour, and at once),
open sockets per user, and sign-in attempts per address, per account from one address and per
account from everywhere. 0 turns one off.

Counted limits use the `limits` library's moving window: the requests of the last N seconds are
counted exactly (one timestamp per request, at most the limit's number per key), so nobody gets
twice the limit across a window boundary (fixed windows) and 10 sign-in attempts mean 10, not an
estimate from two counters (sliding-window counter). At these numbers the timestamps cost little.
They are kept in Redis when REDIS_URL is set, so every instance shares them, else in memory.

Two limits count what is held rather than what happened: runs running at once per user are
counted in the database (every instance sees the same runs, and the runs of a dead instance stop
counting once they are marked interrupted), and open sockets per user in memory or, with Redis,
as leases each socket renews while it is open (a crashed instance's leases run out by themselves).

Every refusal is errors.RateLimited: 429 with Retry-After and a reason naming the limit on REST
(api/app.py maps it), an error frame and a close on the socket. Where HTTP meets these limits
(the address middleware, the socket's slot, sign-in) is api/rate_limits.py.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select, text

from agente_films.auth.identity import normal_username
from agente_films.db.tables import Question, StudioSession
from agente_films.errors import RateLimited, ServiceUnavailable
from agente_films.settings import Settings

log = logging.getLogger(__name__)


# -- the limits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """At most the number in `setting` per `seconds` (a moving window)."""

    name: str
    setting: str
    seconds: int
    counts: str  # what is counted, as a refusal says it
    per: str
    scale: int = 1  # the limit is the setting times this (a limit derived from another's setting)

    def refusal(self, amount: int, retry_after: int) -> RateLimited:
        return RateLimited(
            f"Too many {self.counts}: the limit is {amount} {self.per}. Try again in {retry_after} s.", retry_after
        )


@dataclass(frozen=True)
class Held:
    """At most the number in `setting` held at once (no window: one is free when one ends)."""

    name: str
    setting: str
    counts: str
    free_one: str  # how the person frees one
    retry_after: int  # a guess, as nobody knows when one ends

    def refusal(self, amount: int) -> RateLimited:
        return RateLimited(
            f"Too many {self.counts} at once: the limit is {amount}; {self.free_one}, then try again.",
            self.retry_after,
        )


REQUESTS_PER_ADDRESS = Window("requests_per_address", "rate_limit_ip_per_minute", 60, "requests from your address", "a minute")
REQUESTS_PER_USER = Window("requests_per_user", "rate_limit_user_per_hour", 3600, "requests from your account", "an hour")
RUNS_PER_USER = Window("runs_per_user", "rate_limit_runs_per_user_hour", 3600, "runs started by your account", "an hour")
# Sign-in attempts for one account: strict per (account, address), so a guesser is stopped
# after SIGNIN_ATTEMPTS_PER_ACCOUNT_15MIN tries while the owner, from their own address, still
# signs in (a limit on the account alone would let anyone lock anyone out); and 10 times looser
# for the account from everywhere together, which still caps a brute force spread over many
# addresses (on top of each address's own hourly limit).
SIGN_INS_PER_ACCOUNT_ADDRESS = Window(
    "sign_ins_per_account_address", "signin_attempts_per_account_15min", 900,
    "sign-in attempts for this account from your address", "in 15 minutes",
)
ACCOUNT_FROM_EVERYWHERE_SCALE = 10
SIGN_INS_PER_ACCOUNT = Window(
    "sign_ins_per_account", "signin_attempts_per_account_15min", 900, "sign-in attempts for this account",
    "in 15 minutes", scale=ACCOUNT_FROM_EVERYWHERE_SCALE,
)
SIGN_INS_PER_ADDRESS = Window("sign_ins_per_address", "signin_attempts_per_ip_hour", 3600, "sign-in attempts from your address", "an hour")
RUNS_AT_ONCE = Held("runs_at_once", "max_concurrent_runs_per_user", "runs of yours working", "wait for one to finish or cancel it", 30)
OPEN_SOCKETS = Held("open_sockets", "max_sockets_per_user", "live connections of yours open", "close another tab of the studio", 15)

# With Redis an open socket holds a lease it renews; a crashed instance's leases end after this.
SOCKET_LEASE_SECONDS = 60.0
# pg_advisory_xact_lock(class, key): the class of the per-user run admission locks (two int4
# keys, a space apart from retention's one bigint key).
RUN_ADMISSION_LOCK_CLASS = 0x4146  # "AF"
# A storage (Redis) failure is logged once per this many seconds, not per request.
QUIET_SECONDS = 60.0


def account_key(username: str) -> str:
    """The account a sign-in names, as the accounts table spells it; a digest, so that any name
    someone types (up to the body's size) makes a short key."""
    name = normal_username(username) or username.strip().lower()
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# -- where the counts live ----------------------------------------------------------------------


def _window_storage(settings: Settings) -> tuple[Storage, Any]:
    """Redis when REDIS_URL is set (limits' async storage over coredis), else memory; and the
    connection pool to close."""
    if not settings.redis_url:
        return MemoryStorage(), None
    import coredis

    # Short timeouts: with Redis down a request waits seconds at most, then passes (see _hit).
    pool = coredis.ConnectionPool.from_url(settings.redis_url, connect_timeout=2, stream_timeout=5)
    scheme, _, rest = settings.redis_url.partition("://")
    uri = f"async+redis+unix://{rest}" if scheme == "unix" else f"async+{scheme}://{rest}"
    return RedisStorage(uri, connection_pool=pool), pool


class MemorySockets:
    """Open sockets per user in this process."""

    def __init__(self) -> None:
        self._open: dict[str, set[str]] = {}

    async def take(self, user_id: str, socket_id: str, most: int) -> bool:
        held = self._open.setdefault(user_id, set())
        if len(held) >= most:
            return False
        held.add(socket_id)
        return True

    async def renew(self, user_id: str, socket_id: str) -> None:
        return None

    async def give_back(self, user_id: str, socket_id: str) -> None:
        held = self._open.get(user_id)
        if held is not None:
            held.discard(socket_id)
            if not held:
                del self._open[user_id]


# One sorted set per user: a member per open socket, scored by when its lease ends (Redis's own
# clock, the same for every instance). Taking drops the leases that ran out, then counts.
_TAKE_SOCKET = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
_RENEW_SOCKET = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class RedisSockets:
    """Open sockets per user across instances: leases renewed while a socket is open."""

    def __init__(self, redis: Any, lease_seconds: float = SOCKET_LEASE_SECONDS) -> None:
        self.redis = redis
        self.lease_ms = int(lease_seconds * 1000)
        self._take = redis.register_script(_TAKE_SOCKET)
        self._renew = redis.register_script(_RENEW_SOCKET)

    @staticmethod
    def _key(user_id: str) -> str:
        return f"agente_films:sockets:{user_id}"

    async def take(self, user_id: str, socket_id: str, most: int) -> bool:
        return bool(await self._take(keys=[self._key(user_id)], args=[most, self.lease_ms, socket_id]))

    async def renew(self, user_id: str, socket_id: str) -> None:
        await self._renew(keys=[self._key(user_id)], args=[self.lease_ms, socket_id])

    async def give_back(self, user_id: str, socket_id: str) -> None:
        await self.redis.zrem(self._key(user_id), socket_id)


# -- the limiter --------------------------------------------------------------------------------


class RateLimits:
    """Every limit of one app (studio.limits): checked by RequestLimits (addresses), get_principal
    (users), RunManager (runs, through admit_run), the socket route (sockets) and sign-in."""

    def __init__(self, settings: Settings, redis: Any = None) -> None:
        self.settings = settings
        self._storage, self._pool = _window_storage(settings)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._own_redis = None
        if settings.redis_url and redis is None:
            from redis.asyncio import Redis

            redis = self._own_redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.sockets: MemorySockets | RedisSockets = RedisSockets(redis) if settings.redis_url else MemorySockets()
        self._quiet_until = 0.0

    def amount(self, limit: Window | Held) -> int:
        return int(getattr(self.settings, limit.setting)) * (limit.scale if isinstance(limit, Window) else 1)

    async def close(self) -> None:
        if isinstance(self._storage, MemoryStorage) and self._storage.timer is not None:
            self._storage.timer.cancel()  # its expiry task, which outlives nothing else
        if self._pool is not None:
            self._pool.disconnect()
        if self._own_redis is not None:
            await self._own_redis.aclose()

    def storage_failed(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now >= self._quiet_until:
            self._quiet_until = now + QUIET_SECONDS
            log.warning("rate limits: %s could not be counted, so it passes (%s: %s)", what, type(exc).__name__, exc)

    async def _hit(self, window: Window, key: str, *, fail_open: bool = True) -> None:
        """Count one against `window` for `key`, or RateLimited when its window is full (a
        refused attempt is not counted). When the storage fails, the request passes (the
        limits protect the service; they must not take it down with Redis) unless `fail_open`
        is False: then 503."""
        amount = self.amount(window)
        if amount <= 0:
            return
        item: RateLimitItem = RateLimitItemPerSecond(amount, window.seconds, namespace=f"agente_films:{window.name}")
        try:
            if await self._limiter.hit(item, key):
                return
            stats = await self._limiter.get_window_stats(item, key)
        except Exception as exc:
            if not fail_open:
                raise ServiceUnavailable(f"The {window.counts} cannot be counted now (Redis is unavailable); try again shortly.") from exc
            self.storage_failed(window.name, exc)
            return
        raise window.refusal(amount, math.ceil(stats.reset_time - time.time()))

    # What each caller counts.

    async def request_from(self, address: str) -> None:
        await self._hit(REQUESTS_PER_ADDRESS, address)

    async def request_by(self, user_id: str) -> None:
        await self._hit(REQUESTS_PER_USER, user_id)

    async def sign_in_attempt(self, address: str, username: str) -> None:
        """Every attempt counts, before the password is checked, whether it then succeeds or not:
        counting only failures would have to check the count before the (slow) password hash and
        add to it after, and attempts sent together would all pass the check. A person signing
        in several times in 15 minutes is rare; an attacker's parallel guesses are not.
        Without Redis to count them, sign-in is refused (503) rather than left unlimited."""
        account = account_key(username)
        await self._hit(SIGN_INS_PER_ADDRESS, address, fail_open=False)
        await self._hit(SIGN_INS_PER_ACCOUNT_ADDRESS, f"{account}:{address}", fail_open=False)
        await self._hit(SIGN_INS_PER_ACCOUNT, account, fail_open=False)

    async def admit_run(self, db: Any, user_id: str) -> None:
        """RunManager's check that `user_id` may start one more run (a message, a regeneration,
        a resume, AG-UI's run), made in the transaction that marks the run running: a refusal
        rolls it back and nothing is stored. The user's runs at once are counted there, with
        the new one; on PostgreSQL a per-user advisory lock makes two starts at once count one
        after the other (SQLite's transactions take the write lock at BEGIN already)."""
        most = self.amount(RUNS_AT_ONCE)
        if most > 0:
            connection = await db.connection()
            if connection.dialect.name == "postgresql":
                key = int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:4], "big", signed=True)
                await db.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                                 {"space": RUN_ADMISSION_LOCK_CLASS, "key": key})
            working = await db.scalar(
                select(func.count())
                .select_from(Question)
                .join(StudioSession, StudioSession.id == Question.session_id)
                .where(StudioSession.user_id == user_id, Question.run_status == "running", Question.kind == "message")
            )
            if working > most:
                raise RUNS_AT_ONCE.refusal(most)
        await self._hit(RUNS_PER_USER, user_id)

    async def take_socket(self, user_id: str, socket_id: str) -> bool:
        """A place for one more open socket of `user_id` (RateLimited past the limit); True when
        one was taken (and must be given back)."""
        most = self.amount(OPEN_SOCKETS)
        if most <= 0:
            return False
        try:
            taken = await self.sockets.take(user_id, socket_id, most)
        except Exception as exc:
            self.storage_failed(OPEN_SOCKETS.name, exc)
            return False
        if not taken:
            raise OPEN_SOCKETS.refusal(most)
        return True


