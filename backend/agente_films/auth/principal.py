"""The signed-in caller, as every route and the socket see it (no framework types here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How the caller proved who they are: no sign-in (AUTH_MODE=none), the browser's sign-in cookie,
# a personal API token, or a trusted gateway's header.
Via = Literal["none", "cookie", "token", "proxy"]


@dataclass(frozen=True)
class Principal:
    user_id: str  # owns sessions (studio_sessions.user_id); server-made, safe in paths
    username: str
    is_admin: bool
    via: Via
    # The SHA-256 of the cookie's token when signed in by cookie: what CSRF tokens and sign-out
    # are bound to.
    sign_in: str | None = None

    @property
    def by_browser(self) -> bool:
        """Authenticated by what a browser sends by itself (our sign-in cookie, or a gateway's
        cookie behind AUTH_MODE=proxy): its changes need the page's CSRF token."""
        return self.via in ("cookie", "proxy")
