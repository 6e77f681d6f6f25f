"""The Host check: the server answers only to the names it serves (DNS rebinding)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from agente_films.api.guards.errors import refuse
from agente_films.errors import Refused
from agente_films.settings import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def allowed_hosts(settings: Settings) -> list[str]:
    """Loopback names, HOST, ALLOWED_HOSTS and PUBLIC_URL's host ("*" in ALLOWED_HOSTS: any)."""
    names = [*LOOPBACK_NAMES, settings.host, *settings.allowed_hosts]
    if settings.public_url:
        names.append(urlsplit(settings.public_url).hostname or "")
    return [name.strip().strip("[]").rstrip(".").lower() for name in names if name.strip()]


def host_name(header: str | None) -> str | None:
    """The name in a Host header ("example.com:8000" -> "example.com", "[::1]:80" -> "::1")."""
    if not header:
        return None
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else None
    name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    return name.rstrip(".") or None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostCheck:
    """Answers only to the host names it serves. DNS rebinding points a name the attacker owns at
    this server; the browser then sends that name as Host, and it is refused here. An address
    (127.0.0.1, 10.0.0.5, [::1]) cannot be rebound, so any IP address passes: a load balancer's
    health check or a LAN client that uses the address needs no configuration."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)
        self.any = "*" in self.allowed
        self.suffixes = tuple(name[1:] for name in self.allowed if name.startswith("*."))

    def serves(self, name: str | None) -> bool:
        if name is None:
            return False
        return name in self.allowed or _is_ip(name) or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        header = Headers(scope=scope).get("host")
        if self.serves(host_name(header)):
            return await self.app(scope, receive, send)
        shown = (header or "")[:100]
        refusal = Refused(400, f"Host {shown!r} is not served here; the server's ALLOWED_HOSTS setting lists the names it answers to.")
        await refuse(scope, receive, send, refusal)
