"""What a client asked that cannot be done now, as domain errors: mapped once for REST (status and
JSON body, api/app.py) and once for the socket (an error frame with `code`, api/routes/ws.py)."""

from __future__ import annotations

from typing import Any

from agente_films import protocol as p


class RunRefused(Exception):
    """Something a client asked of a run that cannot be done now: mapped once for REST (status and
    JSON detail) and once for the socket (an error frame with `code`)."""

    status_code = 400
    code: p.ErrorCode = "bad_request"
    run_id: str | None = None

    def extra(self) -> dict[str, Any]:
        """Fields the JSON body carries besides detail, code and run_id."""
        return {}

    def headers(self) -> dict[str, str]:
        """HTTP headers the REST answer carries (Retry-After, WWW-Authenticate)."""
        return {}


class RunNotResumable(RunRefused):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = "no_run" if status_code == 404 else "not_resumable"


class RunInProgress(RunRefused):
    status_code = 409
    code: p.ErrorCode = "run_in_progress"

    def __init__(self, run_id: str | None, reason: str | None = None) -> None:
        super().__init__(
            reason or "A run is already in progress for this session; wait for it to finish or cancel it."
        )
        self.run_id = run_id


class TooManyNotes(RunRefused):
    status_code = 429
    code: p.ErrorCode = "too_many_notes"

    def __init__(self, run_id: str | None, limit: int) -> None:
        super().__init__(
            f"{limit} notes already wait for the writers' room; send more once it has taken them."
        )
        self.run_id = run_id


class ServiceUnavailable(RunRefused):
    """Something a run needs (Redis) is down: HTTP 503, and nothing stored is touched."""

    status_code = 503
    code: p.ErrorCode = "unavailable"


class SessionNotFound(RunRefused):
    """No session with that id is the caller's (another user's is not found either)."""

    status_code = 404
    code: p.ErrorCode = "session_not_found"

    def __init__(self, session_id: str, message: str | None = None) -> None:
        super().__init__(message or f"Session {session_id} not found (it may have been deleted).")


class NoActiveRun(RunRefused):
    status_code = 409
    code: p.ErrorCode = "no_run"

    def __init__(self) -> None:
        super().__init__("No run is in progress in this session.")


class EmptyMessage(RunRefused):
    status_code = 422
    code: p.ErrorCode = "empty_message"

    def __init__(self, message: str = "The message is empty.") -> None:
        super().__init__(message)


class BadText(RunRefused):
    """Text that cannot be stored as it is: control characters (NUL) or a lone surrogate."""

    status_code = 422
    code: p.ErrorCode = "bad_text"


class MessageTooLong(RunRefused):
    status_code = 413
    code: p.ErrorCode = "message_too_long"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"The message is {length} characters; the limit is {limit}.")


class Refused(RunRefused):
    """A request about stored things (a branch point, a version reference) that cannot be served,
    with the HTTP status that says why: 404 not there, 409 not now, 413 too large, 422 malformed."""

    _CODES: dict[int, p.ErrorCode] = {
        404: "not_found", 409: "conflict", 413: "too_large", 422: "bad_request", 431: "too_large",
    }

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = self._CODES.get(status_code, "bad_request")


class StaleVersion(RunRefused):
    """An edit made on a state version that is no longer the current one."""

    status_code = 409
    code: p.ErrorCode = "stale_version"

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"The edit was made on state version {expected}, but the session is at version {current} "
            "now; reload the outline and make the edit again."
        )
        self.current_version = current

    def extra(self) -> dict[str, Any]:
        return {"current_version": self.current_version}


class NotEditable(RunRefused):
    status_code = 422
    code: p.ErrorCode = "not_editable"


class NothingToUndo(RunRefused):
    status_code = 409
    code: p.ErrorCode = "nothing_to_undo"


class NothingToRegenerate(RunRefused):
    status_code = 409
    code: p.ErrorCode = "nothing_to_regenerate"


class NotSignedIn(RunRefused):
    status_code = 401
    code: p.ErrorCode = "not_signed_in"

    def __init__(self, message: str = "Sign in first (a session cookie or an Authorization: Bearer API token).") -> None:
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(RunRefused):
    status_code = 403
    code: p.ErrorCode = "forbidden"


class CsrfRefused(RunRefused):
    status_code = 403
    code: p.ErrorCode = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("This change needs the page's X-CSRF-Token header (reload the page and try again).")


class OriginRefused(RunRefused):
    status_code = 403
    code: p.ErrorCode = "origin_refused"

    def __init__(self, origin: str) -> None:
        super().__init__(f"Requests from {origin[:100]!r} are not allowed; open the app from its own address.")


class RateLimited(RunRefused):
    """Too many requests, runs, sockets or sign-in attempts: 429 with Retry-After, an error frame
    on the socket."""

    status_code = 429
    code: p.ErrorCode = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def extra(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class SessionArchived(RunRefused):
    """The session was archived for being idle (retention): it can be read and downloaded, and
    its owner can unarchive it, but nothing changes it until then."""

    status_code = 423
    code: p.ErrorCode = "archived"

    def __init__(self) -> None:
        super().__init__("This session is archived (read-only); unarchive it to work on it again.")


class BadCredentials(RunRefused):
    """A sign-in with a name and password that do not match an account: the same answer whether
    the name is unknown or the password wrong, so it does not tell which accounts exist."""

    status_code = 401
    code: p.ErrorCode = "bad_credentials"

    def __init__(self) -> None:
        super().__init__("Wrong username or password.")
