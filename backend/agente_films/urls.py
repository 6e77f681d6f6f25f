"""Public URLs the API hands out inside payloads (frames, listings), built in one place."""

from __future__ import annotations

from urllib.parse import quote


def draft_url(session_id: str, version: int) -> str:
    """Download link of the outline as it was at one state version (an outline draft)."""
    return f"/api/v1/sessions/{session_id}/drafts/{version}"


def pitch_urls(session_id: str, filename: str, version: int) -> dict[str, str]:
    """Download links of one version of a pitch document, as Markdown and as PDF."""
    base = f"/api/v1/sessions/{session_id}/pitches/{quote(filename)}"
    return {
        "markdownUrl": f"{base}?version={version}&format=markdown",
        "pdfUrl": f"{base}?version={version}&format=pdf",
    }


def shared_page(token: str) -> str:
    """The UI's read-only page of a share link (frontend route /shared/<token>)."""
    return f"/shared/{token}"


def shared_pitch_urls(token: str, filename: str, version: int) -> dict[str, str]:
    """Download links of one version of a shared session's pitch document (no sign-in needed)."""
    base = f"/api/v1/shared/{token}/pitches/{quote(filename)}"
    return {
        "markdownUrl": f"{base}?version={version}&format=markdown",
        "pdfUrl": f"{base}?version={version}&format=pdf",
    }
