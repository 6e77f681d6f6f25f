"""Wikipedia research tool for the agent team, on async httpx and Wikipedia's REST API.

Why not the `wikipedia` PyPI package: version 1.4.0 (2014, unmaintained) calls blocking `requests` with no
timeout, so inside the event loop it stalls every session, and on a network that accepts connections but
never answers it hangs forever; it keeps its own per-process cache; and respx cannot mock it, so it cannot be
tested offline. httpx fails fast, honours explicit timeouts, and is mocked by respx like the LLM path.

Two endpoints:
    GET {base}/w/rest.php/v1/search/page?q=...&limit=N      -> search hits (title, excerpt, description)
    GET {base}/api/rest_v1/page/summary/{Title_Underscored}  -> lead-section extract + canonical URL

The tool never raises: the model reads a dict whose `status` is "ok", "not_found", "invalid" or
"unavailable", and an unavailable result tells it to carry on from general knowledge.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from agente_films.cache import ResultCache

if TYPE_CHECKING:
    from agente_films.settings import Settings

logger = logging.getLogger(__name__)

# Wikipedia's search rejects queries over 300 characters; trimming keeps cache keys bounded too.
MAX_QUERY_CHARS = 300
MAX_EXTRACT_CHARS = 1200
# Bump when the result shape changes so stale cached entries (Redis keeps them for days) are not served.
CACHE_KEY_PREFIX = "wikipedia:search:v1:"

_TAG = re.compile(r"<[^>]+>")
# What a network problem or an unexpected body looks like: bad JSON is a ValueError, a JSON body of the wrong
# shape a KeyError/TypeError/AttributeError. Anything else is a bug and is not disguised as "unavailable".
_FAILURES = (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError)


class _SummaryGone(Exception):
    """The summary endpoint said 404: the page no longer exists, skip this hit."""


def _clean_html(text: str) -> str:
    # Search excerpts wrap matches in <span class="searchmatch">...</span> and escape entities.
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def _truncate(text: str, limit: int = MAX_EXTRACT_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]  # do not split a word
    return cut.rstrip(" ,;:") + "…"


def _reason(exc: Exception) -> str:
    """A short, model-readable cause; details go to the log, not to the prompt."""
    if isinstance(exc, httpx.TimeoutException):
        return "the request timed out"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TransportError):
        return "could not connect"
    return "unexpected response"


class WikipediaClient:
    def __init__(
        self,
        *,
        base_url: str,
        timeout_seconds: float,
        user_agent: str,
        cache: ResultCache,
        cache_ttl_seconds: int,
        max_results: int,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout_seconds)
        # Wikimedia's API policy asks for a descriptive User-Agent with contact info; generic ones get blocked.
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._cache = cache
        self._cache_ttl = cache_ttl_seconds
        self._max_results = max(1, min(max_results, 10))
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=self._timeout, headers=self._headers)

    async def aclose(self) -> None:
        # The cache is shared with other users, so only the HTTP client we created is ours to close.
        if self._owns_http:
            await self._http.aclose()

    async def search(self, query: str) -> dict[str, Any]:
        q = " ".join(query.split())[:MAX_QUERY_CHARS] if isinstance(query, str) else ""
        if not q:
            return {
                "status": "invalid",
                "query": query if isinstance(query, str) else "",
                "message": "The search query is empty. Give a person, event or topic to look up.",
            }

        cache_key = f"{CACHE_KEY_PREFIX}{self._max_results}:{q.casefold()}"
        cached = await self._cache_get(cache_key)
        if isinstance(cached, dict):
            return {**cached, "query": q}

        try:
            result, cacheable = await self._lookup(q)
        except _FAILURES as exc:
            logger.warning("Wikipedia search for %r failed: %r", q, exc)
            return {
                "status": "unavailable",
                "query": q,
                "message": (
                    f"Wikipedia research is unavailable right now ({_reason(exc)}). "
                    "Continue from general knowledge and say that sources could not be checked."
                ),
            }
        # Failures are never cached (they are transient); neither is a result degraded by a transient
        # summary failure, so the next call gets the full summaries.
        if cacheable:
            await self._cache_set(cache_key, result)
        return result

    async def _lookup(self, q: str) -> tuple[dict[str, Any], bool]:
        payload = await self._get_json("/w/rest.php/v1/search/page", params={"q": q, "limit": self._max_results})
        hits = [hit for hit in payload["pages"] if isinstance(hit, dict) and hit.get("title")]
        if not hits:
            return {
                "status": "not_found",
                "query": q,
                "message": (
                    f"Wikipedia has no article matching '{q}'. Try a different spelling or a broader topic."
                ),
            }, True

        # Summaries are independent requests: fetch them concurrently so the tool costs ~2 round trips.
        outcomes = await asyncio.gather(
            *(self._summary(hit) for hit in hits[: self._max_results]), return_exceptions=True
        )
        results: list[dict[str, str]] = []
        cacheable = True
        for hit, outcome in zip(hits, outcomes, strict=False):
            if isinstance(outcome, _SummaryGone):
                continue
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, _FAILURES):
                    raise outcome  # a bug or a cancellation, not a network problem
                # The search worked, so the hit's own excerpt is still worth giving the model.
                logger.warning("Wikipedia summary for %r failed: %r", hit["title"], outcome)
                cacheable = False
                results.append(self._from_hit(hit))
            else:
                results.append(outcome)
        if not results:
            # Every summary 404'd (pages deleted or renamed since indexing): fall back to the excerpts.
            results = [self._from_hit(hit) for hit in hits[: self._max_results]]
        return {"status": "ok", "query": q, "results": results}, cacheable

    async def _summary(self, hit: dict[str, Any]) -> dict[str, str]:
        title = str(hit["title"])
        path = "/api/rest_v1/page/summary/" + quote(title.replace(" ", "_"), safe="")
        try:
            data = await self._get_json(path)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                raise _SummaryGone(title) from exc
            raise
        page_url = (data.get("content_urls") or {}).get("desktop", {}).get("page")
        return {
            "title": (data.get("titles") or {}).get("normalized") or str(data.get("title") or title).replace("_", " "),
            "url": page_url or self._page_url(title),
            "description": str(data.get("description") or hit.get("description") or ""),
            "extract": _truncate(str(data.get("extract") or _clean_html(str(hit.get("excerpt") or "")))),
        }

    def _from_hit(self, hit: dict[str, Any]) -> dict[str, str]:
        title = str(hit["title"])
        description = str(hit.get("description") or "")
        return {
            "title": title,
            "url": self._page_url(title),
            "description": description,
            "extract": _truncate(_clean_html(str(hit.get("excerpt") or "")) or description),
        }

    def _page_url(self, title: str) -> str:
        return f"{self._base_url}/wiki/" + quote(title.replace(" ", "_"), safe="()',!:*/")

    async def _get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        # Timeout and headers are passed per request too, so an injected shared client behaves the same.
        # Summaries of redirect titles answer 302 to the target page: follow it.
        response = await self._http.get(
            self._base_url + path,
            params=params,
            headers=self._headers,
            timeout=self._timeout,
            follow_redirects=True,
        )
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        return data

    async def _cache_get(self, key: str) -> Any | None:
        try:
            return await self._cache.get(key)
        except Exception:  # a broken cache must not break research
            logger.warning("Result cache get failed", exc_info=True)
            return None

    async def _cache_set(self, key: str, value: dict[str, Any]) -> None:
        try:
            await self._cache.set(key, value, self._cache_ttl)
        except Exception:
            logger.warning("Result cache set failed", exc_info=True)


def make_wikipedia_tool(client: WikipediaClient) -> Callable[[str], Awaitable[dict[str, Any]]]:
    """Wrap `client` as a plain async function: ADK builds the tool schema from its name, signature and docstring."""

    async def wikipedia_search(query: str) -> dict:
        """Search English Wikipedia for a person, event or topic and return article summaries with their source URLs.

        Use it to check facts (dates, names, places, what really happened) before relying on them, and cite
        the returned URLs as sources.

        Args:
            query: What to look up, e.g. "Apollo 13" or "Hedy Lamarr". Short names and topics work best.

        Returns:
            A dict with "status":
            - "ok": "results" is a list of {"title", "url", "description", "extract"}.
            - "not_found": nothing matched; "message" suggests another spelling or a broader topic.
            - "invalid": the query was empty.
            - "unavailable": Wikipedia could not be reached; continue from general knowledge and say that
              sources could not be checked.
        """
        try:
            return await client.search(query)
        except Exception:
            # Belt and braces: a tool exception would abort the whole agent run.
            logger.exception("wikipedia_search failed unexpectedly")
            return {
                "status": "unavailable",
                "query": query if isinstance(query, str) else "",
                "message": (
                    "Wikipedia research is unavailable right now (internal error). "
                    "Continue from general knowledge and say that sources could not be checked."
                ),
            }

    return wikipedia_search


def make_wikipedia_client(settings: Settings, cache: ResultCache) -> WikipediaClient:
    return WikipediaClient(
        base_url=settings.wikipedia_base_url,
        timeout_seconds=settings.wikipedia_timeout_seconds,
        user_agent=settings.wikipedia_user_agent,
        cache=cache,
        cache_ttl_seconds=settings.wikipedia_cache_ttl_seconds,
        max_results=settings.wikipedia_max_results,
    )
