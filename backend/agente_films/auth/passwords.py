"""Passwords: argon2 hashes (pwdlib's recommended hasher) and the rules a new password follows.

Hashing costs tens of milliseconds of CPU and 64 MiB on purpose, so it runs in a worker thread:
the event loop keeps serving everyone else while one sign-in is checked.
"""

from __future__ import annotations

import asyncio
import weakref
from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError

from agente_films.text import plain_text_problem

MIN_LENGTH = 10
# Long enough for any passphrase or manager-made password, short enough that hashing one is cheap.
MAX_LENGTH = 256

_hasher = PasswordHash.recommended()
# Each hash holds 64 MiB while it runs: a burst of sign-ins (or guesses, before the rate limits
# refuse them) waits its turn here instead of taking 64 MiB per request at once.
MAX_HASHES_AT_ONCE = 3
# One semaphore per event loop (a semaphore belongs to the loop it first waited in; the CLI and
# tests run several loops in one process).
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _hash_slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(MAX_HASHES_AT_ONCE)
    return slot


@cache
def _dummy_hash() -> str:
    """Checked against when the account does not exist (or has no password), so that an unknown
    name takes as long to refuse as a wrong password: timing does not tell which accounts exist."""
    return _hasher.hash("agente-films: not anyone's password")


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, in words, or None."""
    if len(password) < MIN_LENGTH:
        return f"The password needs at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password may have at most {MAX_LENGTH} characters."
    problem = plain_text_problem(password)
    if problem:
        return f"The password {problem}."
    return None


async def hash_password(password: str) -> str:
    async with _hash_slot():
        return await asyncio.to_thread(_hasher.hash, password)


def _verify(password: str, stored: str | None) -> bool:
    try:
        # A password that could never have been set (too long, not valid Unicode) still costs
        # one check, on the dummy hash, and fails.
        usable = stored is not None and len(password) <= MAX_LENGTH and plain_text_problem(password) is None
        matches = _hasher.verify(password if usable else "", stored if usable else _dummy_hash())
    except (PwdlibError, ValueError, UnicodeError):
        return False  # a malformed stored hash signs nobody in
    return usable and matches


async def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash; `stored` None (no such account, or one without a
    password) takes the same time and is False."""
    async with _hash_slot():
        return await asyncio.to_thread(_verify, password, stored)
