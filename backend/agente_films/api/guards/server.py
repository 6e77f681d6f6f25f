"""The server's side of the size caps (uvicorn's options for `agente-films serve`): the request
head (431, HeaderCappedH11Protocol) and the socket frame (1009)."""

from __future__ import annotations

from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from agente_films.api.guards.errors import refusal_body
from agente_films.errors import Refused
from agente_films.settings import Settings


class HeaderCappedH11Protocol(H11Protocol):
    """uvicorn's h11 server, answering 431 where it answers 400 for a request head (request line
    and headers) over `h11_max_incomplete_event_size` bytes. h11 holds at most that much (plus
    one read) of an unfinished head, then refuses it and the connection closes: ten clients each
    sending an endless header cost kilobytes, not the gigabytes they send. (uvicorn's default
    parser, httptools, keeps growing an unfinished header with no limit.)"""

    def send_400_response(self, msg: str) -> None:
        limit = self.config.h11_max_incomplete_event_size
        buffered, _ = self.conn.trailing_data
        if limit is None or self.conn.their_state is not h11.ERROR or len(buffered) <= limit:
            return super().send_400_response(msg)
        refusal = Refused(431, f"The request's headers are over {limit} bytes, the most this server reads.")
        body = refusal_body(refusal).model_dump_json(exclude_none=True).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=431, headers=headers, reason=b"Request Header Fields Too Large"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run's arguments for the size caps: the request head (431) and a socket frame
    (a larger one closes the socket with 1009, message too big)."""
    return {
        "http": HeaderCappedH11Protocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "ws_max_size": settings.max_body_bytes,
    }
