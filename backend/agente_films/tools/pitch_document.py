"""The document tool: saves the pitch as a versioned ADK artifact.

The model never chooses a path: the server names the file from a sanitized title, stores it through
the artifact service (FileArtifactService under sessions/ by default) and caps its size.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from google.adk.tools.tool_context import ToolContext
from google.genai import types

from agente_films import notes as producer_notes
from agente_films import state_keys as keys

MARKDOWN_MIME = "text/markdown"
_MAX_SLUG = 80


_PITCH_FILENAME = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{_MAX_SLUG - 1}}})\.md")


def is_pitch_filename(name: str) -> bool:
    """Whether `name` is one pitch_filename can make: what a download may ask for (never a path,
    a `user:` scope, or a name longer than file systems allow)."""
    return _PITCH_FILENAME.fullmatch(name) is not None


def pitch_filename(title: str) -> str:
    """`Ada Lovelace: The Engine!` -> `ada-lovelace-the-engine.md`; never a path."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:_MAX_SLUG].strip("-")
    return f"{slug or 'film-pitch'}.md"


def saved_result(filename: str, version: int, size: int) -> dict[str, Any]:
    """What the model hears back. ADK numbers versions from 0; people (the UI, the chat) from 1."""
    return {"status": "saved", "filename": filename, "version": version, "version_label": f"Version {version + 1}",
            "bytes": size}


def make_pitch_document_tool(max_bytes: int) -> Callable[..., Any]:
    async def save_pitch_document(
        title: str, markdown: str, tool_context: ToolContext
    ) -> dict[str, Any]:
        """Save the finished film pitch document (Markdown) so the user can download it.

        Args:
            title: The film's title; the server turns it into the file name.
            markdown: The whole pitch document in Markdown.
        """
        data = str(markdown).encode("utf-8")
        if not data.strip():
            return {"status": "error", "message": "The document is empty; nothing was saved."}
        if len(data) > max_bytes:
            return {
                "status": "error",
                "message": f"The document is {len(data)} bytes; the limit is {max_bytes}. "
                "Shorten it and save again.",
            }
        state = tool_context.state
        # A revision is the next version of the same document, whatever its title became.
        filename = str(state.get(keys.PITCH_DOCUMENT) or "") or pitch_filename(str(title))
        revision = int(state.get(keys.REVISION) or 0)
        notes = [n["text"] for n in producer_notes.of_revision(state.get(keys.PRODUCER_NOTES), revision)]
        digest = hashlib.sha256(data).hexdigest()
        # Idempotent within a run: a run resumed after a crash may make the same call again (the
        # artifact is written at once, the call's events only with the writer's next batch).
        # The version this invocation already saved of this very document is the answer.
        latest = await tool_context.get_artifact_version(filename)
        saved = (latest.custom_metadata or {}) if latest is not None else {}
        if saved.get("invocation_id") == tool_context.invocation_id and saved.get("sha256") == digest:
            tool_context.actions.artifact_delta[filename] = latest.version
            state[keys.PITCH_DOCUMENT] = filename
            return saved_result(filename, latest.version, len(data))
        version = await tool_context.save_artifact(
            filename=filename,
            artifact=types.Part.from_bytes(data=data, mime_type=MARKDOWN_MIME),
            custom_metadata={
                "title": str(title)[:300],
                "size": len(data),
                "invocation_id": tool_context.invocation_id,
                "sha256": digest,
                "revision": revision,
                "notes": notes,
            },
        )
        state[keys.PITCH_DOCUMENT] = filename
        return saved_result(filename, version, len(data))

    return save_pitch_document
