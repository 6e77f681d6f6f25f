"""Random tokens, their stored hashes, and the server's signing key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from agente_films.settings import Settings

TOKEN_BYTES = 32
# Personal API tokens start with this, so a leaked one is recognisable (secret scanners, logs).
API_TOKEN_PREFIX = "afp_"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256 (the tokens are random, so no salt or slow hash)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def keyed_digest(secret: str, purpose: str, value: str) -> str:
    """An HMAC of `value` for one purpose (a CSRF token for a sign-in, ...)."""
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def secret_key_file(settings: Settings) -> Path:
    # Beside the artifacts (sessions/ by default), where the rest of an embedded install lives.
    return Path(settings.artifacts_dir).parent / "secret_key"


def load_secret_key(settings: Settings) -> str:
    """SECRET_KEY, or one generated on first start and kept (0600) beside the data: enough for one
    host; several instances must share SECRET_KEY (docs/security.md)."""
    if settings.secret_key:
        return settings.secret_key
    path = secret_key_file(settings)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
