"""Wikipedia research tool and the result cache, fully offline (respx) plus the local Redis."""

from __future__ import annotations

import inspect
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
from redis.asyncio import Redis

from agente_films.cache import MemoryResultCache, RedisResultCache, make_result_cache
from agente_films.settings import Settings
from agente_films.tools.wikipedia import (
    MAX_EXTRACT_CHARS,
    WikipediaClient,
    make_wikipedia_client,
    make_wikipedia_tool,
)

BASE = "https://wiki.test"
SEARCH = "/w/rest.php/v1/search/page"
UA = "AgenteFilmsTests/1.0 (tests@example.org)"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DEAD_REDIS_URL = "redis://127.0.0.1:6390"


def hit(title: str, excerpt: str = "", description: str = "") -> dict:
    return {"id": 1, "key": title.replace(" ", "_"), "title": title, "excerpt": excerpt, "description": description}


def summary(title: str, extract: str, description: str = "", url: str | None = None) -> dict:
    body: dict = {
        "type": "standard",
        "title": title,
        "titles": {"canonical": title.replace(" ", "_"), "normalized": title},
        "description": description,
        "extract": extract,
    }
    if url:
        body["content_urls"] = {"desktop": {"page": url}, "mobile": {"page": url.replace("en.", "en.m.")}}
    return body


def summary_path(key: str) -> str:
    return f"/api/rest_v1/page/summary/{key}"


@pytest.fixture
def wiki() -> Iterator[respx.MockRouter]:
    # assert_all_mocked: any request without a route fails the test instead of touching the network.
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
async def client() -> AsyncIterator[WikipediaClient]:
    c = WikipediaClient(
        base_url=BASE,
        timeout_seconds=2.0,
        user_agent=UA,
        cache=MemoryResultCache(),
        cache_ttl_seconds=3600,
        max_results=3,
    )
    yield c
    await c.aclose()


def mock_einstein_and_curie(wiki: respx.MockRouter) -> respx.Route:
    search = wiki.get(SEARCH).respond(
        json={"pages": [hit("Albert Einstein"), hit("Marie Curie")]},
    )
    wiki.get(summary_path("Albert_Einstein")).respond(
        json=summary(
            "Albert Einstein",
            "Albert Einstein was a German-born theoretical physicist.",
            "German-born physicist (1879–1955)",
            url="https://en.wikipedia.org/wiki/Albert_Einstein",
        )
    )
    wiki.get(summary_path("Marie_Curie")).respond(
        json=summary(
            "Marie Curie",
            "Marie Curie was a Polish and naturalised-French physicist and chemist.",
            "Physicist and chemist (1867–1934)",
            url="https://en.wikipedia.org/wiki/Marie_Curie",
        )
    )
    return search


# --- success / not found --------------------------------------------------------------------------


async def test_search_returns_summaries_with_source_urls(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    search = mock_einstein_and_curie(wiki)

    result = await client.search("  famous   physicists ")

    assert result == {
        "status": "ok",
        "query": "famous physicists",
        "results": [
            {
                "title": "Albert Einstein",
                "url": "https://en.wikipedia.org/wiki/Albert_Einstein",
                "description": "German-born physicist (1879–1955)",
                "extract": "Albert Einstein was a German-born theoretical physicist.",
            },
            {
                "title": "Marie Curie",
                "url": "https://en.wikipedia.org/wiki/Marie_Curie",
                "description": "Physicist and chemist (1867–1934)",
                "extract": "Marie Curie was a Polish and naturalised-French physicist and chemist.",
            },
        ],
    }
    params = search.calls.last.request.url.params
    assert params["q"] == "famous physicists"
    assert params["limit"] == "3"


async def test_user_agent_sent_on_every_request(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    mock_einstein_and_curie(wiki)
    await client.search("physicists")
    assert len(wiki.calls) == 3  # one search + two summaries
    assert {call.request.headers["User-Agent"] for call in wiki.calls} == {UA}


async def test_title_is_url_quoted_and_url_falls_back_without_content_urls(
    wiki: respx.MockRouter, client: WikipediaClient
) -> None:
    wiki.get(SEARCH).respond(json={"pages": [hit("Apollo 13 (film)")]})
    route = wiki.get(summary_path("Apollo_13_%28film%29")).respond(
        json=summary("Apollo 13 (film)", "Apollo 13 is a 1995 American space docudrama film.")
    )

    result = await client.search("apollo 13 film")

    assert route.called
    assert route.calls.last.request.url.raw_path == b"/api/rest_v1/page/summary/Apollo_13_%28film%29"
    assert result["results"][0]["url"] == f"{BASE}/wiki/Apollo_13_(film)"


async def test_not_found_when_search_has_no_pages(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    wiki.get(SEARCH).respond(json={"pages": []})

    result = await client.search("Qwxzyk Film Studio")

    assert result["status"] == "not_found"
    assert result["query"] == "Qwxzyk Film Studio"
    assert "'Qwxzyk Film Studio'" in result["message"]
    assert len(wiki.calls) == 1  # no summary requests


async def test_empty_query_is_invalid_without_http(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    for query in ("", "   \n\t"):
        result = await client.search(query)
        assert result["status"] == "invalid"
        assert result["message"]
    assert not wiki.calls


async def test_extract_is_truncated(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    wiki.get(SEARCH).respond(json={"pages": [hit("Long")]})
    wiki.get(summary_path("Long")).respond(json=summary("Long", "word " * 1000))

    extract = (await client.search("long"))["results"][0]["extract"]

    assert len(extract) <= MAX_EXTRACT_CHARS + 1
    assert extract.endswith("…")


# --- summary edge cases -------------------------------------------------------------------------------


async def test_summary_404_is_skipped(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    wiki.get(SEARCH).respond(json={"pages": [hit("Deleted Page"), hit("Marie Curie")]})
    wiki.get(summary_path("Deleted_Page")).respond(404, json={"type": "not_found"})
    wiki.get(summary_path("Marie_Curie")).respond(json=summary("Marie Curie", "Physicist."))

    result = await client.search("curie")

    assert result["status"] == "ok"
    assert [r["title"] for r in result["results"]] == ["Marie Curie"]


async def test_all_summaries_404_fall_back_to_search_excerpts(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    wiki.get(SEARCH).respond(
        json={
            "pages": [
                hit(
                    "Nosferatu",
                    excerpt='<span class="searchmatch">Nosferatu</span> is a 1922 silent &quot;horror&quot; film',
                    description="1922 film by F. W. Murnau",
                )
            ]
        }
    )
    wiki.get(summary_path("Nosferatu")).respond(404)

    result = await client.search("nosferatu")

    assert result["results"] == [
        {
            "title": "Nosferatu",
            "url": f"{BASE}/wiki/Nosferatu",
            "description": "1922 film by F. W. Murnau",
            "extract": 'Nosferatu is a 1922 silent "horror" film',
        }
    ]


async def test_transient_summary_failure_uses_excerpt_and_is_not_cached(
    wiki: respx.MockRouter, client: WikipediaClient
) -> None:
    search = wiki.get(SEARCH).respond(json={"pages": [hit("Metropolis", excerpt="<span>Metropolis</span> 1927")]})
    summary_route = wiki.get(summary_path("Metropolis"))
    summary_route.side_effect = [httpx.Response(503), httpx.Response(200, json=summary("Metropolis", "Full."))]

    first = await client.search("metropolis")
    second = await client.search("metropolis")

    assert first["status"] == "ok" and first["results"][0]["extract"] == "Metropolis 1927"
    assert second["results"][0]["extract"] == "Full."
    assert search.call_count == 2  # the degraded result was not cached


# --- failures -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ReadTimeout("read timed out"), "timed out"),
        (httpx.ConnectTimeout("connect timed out"), "timed out"),
        (httpx.ConnectError("connection refused"), "could not connect"),
    ],
)
async def test_network_failure_is_unavailable_and_tool_does_not_raise(
    wiki: respx.MockRouter, client: WikipediaClient, error: Exception, reason: str
) -> None:
    wiki.get(SEARCH).mock(side_effect=error)
    tool = make_wikipedia_tool(client)

    started = time.perf_counter()
    result = await tool("Stanley Kubrick")

    assert time.perf_counter() - started < 1.0
    assert result["status"] == "unavailable"
    assert result["query"] == "Stanley Kubrick"
    assert reason in result["message"]
    assert "Continue from general knowledge" in result["message"]


async def test_real_timeout_against_a_silent_server() -> None:
    # A server that accepts connections and never answers: the case where the `wikipedia` package hangs
    # forever. A listening socket that never calls accept() is enough: the kernel completes the handshake.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = WikipediaClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout_seconds=0.3,
            user_agent=UA,
            cache=MemoryResultCache(),
            cache_ttl_seconds=60,
            max_results=3,
        )
        try:
            started = time.perf_counter()
            result = await client.search("Orson Welles")
            elapsed = time.perf_counter() - started
        finally:
            await client.aclose()

    assert result["status"] == "unavailable"
    assert "timed out" in result["message"]
    assert elapsed < 2.0


@pytest.mark.parametrize("status", [500, 403, 429])
async def test_http_error_is_unavailable(wiki: respx.MockRouter, client: WikipediaClient, status: int) -> None:
    wiki.get(SEARCH).respond(status)
    result = await client.search("Akira Kurosawa")
    assert result["status"] == "unavailable"
    assert f"HTTP {status}" in result["message"]


@pytest.mark.parametrize("body", [b"<html>not json</html>", b'["a list"]', b'{"no_pages": 1}'])
async def test_bad_body_is_unavailable(wiki: respx.MockRouter, client: WikipediaClient, body: bytes) -> None:
    wiki.get(SEARCH).respond(200, content=body, headers={"Content-Type": "application/json"})
    result = await client.search("Agnès Varda")
    assert result["status"] == "unavailable"
    assert "unexpected response" in result["message"]


# --- caching ------------------------------------------------------------------------------------------


async def test_results_are_cached_by_normalised_query(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    mock_einstein_and_curie(wiki)

    first = await client.search("Famous Physicists")
    calls_after_first = len(wiki.calls)
    second = await client.search("  famous   PHYSICISTS")

    assert len(wiki.calls) == calls_after_first  # no HTTP on the second call
    assert second["results"] == first["results"]
    assert second["query"] == "famous PHYSICISTS"


async def test_not_found_is_cached(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    search = wiki.get(SEARCH).respond(json={"pages": []})
    await client.search("nothing here")
    await client.search("Nothing Here")
    assert search.call_count == 1


async def test_failures_are_not_cached(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    search = wiki.get(SEARCH)
    search.side_effect = [httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(200, json={"pages": []})]

    assert (await client.search("Fritz Lang"))["status"] == "unavailable"
    assert (await client.search("Fritz Lang"))["status"] == "unavailable"
    assert (await client.search("Fritz Lang"))["status"] == "not_found"
    assert search.call_count == 3


async def test_broken_cache_does_not_break_search(wiki: respx.MockRouter) -> None:
    class BrokenCache:
        async def get(self, key: str) -> None:
            raise RuntimeError("boom")

        async def set(self, key: str, value: object, ttl_seconds: int) -> None:
            raise RuntimeError("boom")

        async def close(self) -> None:
            pass

    wiki.get(SEARCH).respond(json={"pages": []})
    client = WikipediaClient(
        base_url=BASE, timeout_seconds=1, user_agent=UA, cache=BrokenCache(), cache_ttl_seconds=60, max_results=2
    )
    assert (await client.search("x"))["status"] == "not_found"
    await client.aclose()


# --- the ADK tool function -----------------------------------------------------------------------------


async def test_tool_function(wiki: respx.MockRouter, client: WikipediaClient) -> None:
    mock_einstein_and_curie(wiki)
    tool = make_wikipedia_tool(client)

    assert tool.__name__ == "wikipedia_search"
    assert inspect.iscoroutinefunction(tool)
    assert list(inspect.signature(tool).parameters) == ["query"]
    assert (tool.__doc__ or "").startswith(
        "Search English Wikipedia for a person, event or topic and return article summaries with their source URLs."
    )
    result = await tool(query="physicists")
    assert result["status"] == "ok"
    assert [r["title"] for r in result["results"]] == ["Albert Einstein", "Marie Curie"]


async def test_tool_never_raises_even_on_a_bug(client: WikipediaClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def explode(query: str) -> dict:
        raise RuntimeError("bug")

    monkeypatch.setattr(client, "search", explode)
    result = await make_wikipedia_tool(client)("anything")
    assert result["status"] == "unavailable"


async def test_factories_read_settings() -> None:
    settings = Settings(
        _env_file=None,
        wikipedia_base_url="https://fr.wikipedia.org/",
        wikipedia_timeout_seconds=1.5,
        wikipedia_max_results=2,
        wikipedia_user_agent=UA,
        redis_url=None,
    )
    cache = make_result_cache(settings)
    assert isinstance(cache, MemoryResultCache)
    client = make_wikipedia_client(settings, cache)
    try:
        with respx.mock(base_url="https://fr.wikipedia.org") as router:
            route = router.get(SEARCH).respond(json={"pages": []})
            await client.search("Truffaut")
        request = route.calls.last.request
        assert request.url.params["limit"] == "2"
        assert request.headers["User-Agent"] == UA
    finally:
        await client.aclose()

    redis_cache = make_result_cache(Settings(_env_file=None, redis_url=DEAD_REDIS_URL, secret_key="tests"))
    assert isinstance(redis_cache, RedisResultCache)
    await redis_cache.close()


# --- MemoryResultCache ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_cache_expires_per_entry() -> None:
    clock = FakeClock()
    cache = MemoryResultCache(timer=clock)
    await cache.set("short", {"v": 1}, ttl_seconds=10)
    await cache.set("long", {"v": 2}, ttl_seconds=100)

    clock.now += 9
    assert await cache.get("short") == {"v": 1}
    clock.now += 2
    assert await cache.get("short") is None
    assert await cache.get("long") == {"v": 2}
    clock.now += 100
    assert await cache.get("long") is None
    assert await cache.get("never-set") is None


async def test_memory_cache_is_bounded_and_returns_copies() -> None:
    cache = MemoryResultCache(maxsize=2)
    for i in range(3):
        await cache.set(f"k{i}", {"i": i}, ttl_seconds=60)
    assert await cache.get("k0") is None  # evicted
    value = await cache.get("k2")
    value["i"] = "mutated"
    assert await cache.get("k2") == {"i": 2}


# --- RedisResultCache -----------------------------------------------------------------------------------


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A unique key prefix on the local test Redis; only its keys are deleted afterwards."""
    raw = Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        await raw.ping()
    except Exception as exc:
        await raw.aclose()
        message = f"Redis not reachable at {REDIS_URL}: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"agente_films:test:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = [key async for key in raw.scan_iter(match=prefix + "*")]
        if keys:
            await raw.delete(*keys)
        await raw.aclose()


async def test_redis_cache_round_trip_with_ttl(redis_prefix: str) -> None:
    cache = RedisResultCache(REDIS_URL, prefix=redis_prefix)
    raw = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        value = {"status": "ok", "results": [{"title": "Ran", "extract": "1985 film – Kurosawa"}]}
        assert await cache.get("wiki:ran") is None
        await cache.set("wiki:ran", value, ttl_seconds=120)
        assert await cache.get("wiki:ran") == value
        assert 0 < await raw.ttl(redis_prefix + "wiki:ran") <= 120

        await raw.set(redis_prefix + "corrupt", "{not json")
        assert await cache.get("corrupt") is None
    finally:
        await cache.close()
        await raw.aclose()


async def test_redis_cache_shared_by_wikipedia_clients(redis_prefix: str, wiki: respx.MockRouter) -> None:
    # Two "API instances" with their own clients and cache objects share one Redis.
    search = mock_einstein_and_curie(wiki)
    caches = [RedisResultCache(REDIS_URL, prefix=redis_prefix) for _ in range(2)]
    clients = [
        WikipediaClient(base_url=BASE, timeout_seconds=1, user_agent=UA, cache=c, cache_ttl_seconds=60, max_results=3)
        for c in caches
    ]
    try:
        first = await clients[0].search("physicists")
        second = await clients[1].search("Physicists")
        assert second["results"] == first["results"]
        assert search.call_count == 1
    finally:
        for c in clients:
            await c.aclose()
        for cache in caches:
            await cache.close()


async def test_redis_cache_dead_port_is_a_miss_not_an_error() -> None:
    cache = RedisResultCache(DEAD_REDIS_URL)
    try:
        started = time.perf_counter()
        assert await cache.get("anything") is None
        await cache.set("anything", {"v": 1}, ttl_seconds=60)  # no exception
        assert await cache.get("anything") is None
        assert time.perf_counter() - started < 3.0
    finally:
        await cache.close()


async def test_wikipedia_works_with_dead_redis(wiki: respx.MockRouter) -> None:
    mock_einstein_and_curie(wiki)
    cache = RedisResultCache(DEAD_REDIS_URL)
    client = WikipediaClient(
        base_url=BASE, timeout_seconds=1, user_agent=UA, cache=cache, cache_ttl_seconds=60, max_results=3
    )
    try:
        assert (await client.search("physicists"))["status"] == "ok"
    finally:
        await client.aclose()
        await cache.close()
