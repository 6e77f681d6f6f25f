"""docker-compose.yml, the images and the nginx config, checked without a Docker engine (none runs
on these machines): every service is healthy-checked, secrets come from .env, the api runs the CLI,
and nginx passes WebSocket upgrades through."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from agente_films import cli

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SECRET = re.compile(r"PASSWORD|SECRET|_KEY$|MASTER_KEY|API_KEY")


def env_example_names() -> set[str]:
    return {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }


def compose_variables() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text()
    return set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))


def test_the_stack_has_the_services_of_the_design_each_with_a_health_check() -> None:
    assert set(SERVICES) == {"postgres", "redis", "litellm", "api", "frontend"}
    assert SERVICES["postgres"]["image"].startswith("postgres:16")
    assert SERVICES["redis"]["image"].startswith("redis:7")
    assert "./database:/docker-entrypoint-initdb.d:ro" in SERVICES["postgres"]["volumes"]
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    # The api waits for what it needs to be healthy, and runs more than one instance.
    assert set(SERVICES["api"]["depends_on"]) == {"postgres", "redis", "litellm"}
    assert all(dep["condition"] == "service_healthy" for dep in SERVICES["api"]["depends_on"].values())
    assert SERVICES["api"]["deploy"]["replicas"] >= 2


def test_secrets_come_only_from_env_and_env_example_covers_every_variable() -> None:
    assert compose_variables() <= env_example_names(), compose_variables() - env_example_names()
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET.search(key):
                assert "${" in str(value) or value in ("", None), f"{name}.{key} is not from .env"


def test_the_api_service_runs_the_cli_like_the_image() -> None:
    command = SERVICES["api"]["command"]
    assert command[:2] == ["agente-films", "serve"]
    with pytest.raises(SystemExit) as help_exit:
        cli.main([*command[1:], "--help"])  # the CLI accepts exactly these arguments
    assert help_exit.value.code == 0
    dockerfile = (ROOT / "backend" / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd and yaml.safe_load(cmd.group(1)) == command
    env = SERVICES["api"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert env["LITELLM_BASE_URL"] == "http://litellm:4000"


def test_the_api_image_is_multi_stage_locked_and_not_root() -> None:
    dockerfile = (ROOT / "backend" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    assert "uv sync --frozen --no-dev" in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
    # It listens on every interface, so people sign in (AUTH_MODE=none would refuse to start).
    assert re.search(r"^ENV AUTH_MODE=password$", dockerfile, re.MULTILINE)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in shlex.split(source):
            assert (ROOT / path).exists(), f"COPY {path}: not in the repository"


def test_the_ui_image_serves_the_build_and_proxies_the_api_and_websocket() -> None:
    dockerfile = (ROOT / "frontend" / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "npm run build" in dockerfile and "nginx" in dockerfile
    nginx = (ROOT / "frontend" / "nginx.conf").read_text()
    api_block = re.search(r"location /api/ \{(.*?)\}", nginx, re.DOTALL).group(1)
    assert "proxy_pass http://api;" in api_block
    assert "proxy_http_version 1.1;" in api_block
    assert "proxy_set_header Upgrade $http_upgrade;" in api_block
    assert "proxy_set_header Connection $connection_upgrade;" in api_block
    assert re.search(r"map \$http_upgrade \$connection_upgrade", nginx)
    assert "server api:8000" in nginx
    assert "try_files $uri /index.html" in nginx
    assert nginx.count("{") == nginx.count("}")


def test_the_litellm_service_uses_the_repository_config() -> None:
    litellm = SERVICES["litellm"]
    assert "./config/litellm_config.yaml:/app/config.yaml:ro" in litellm["volumes"]
    assert litellm["environment"]["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    config = yaml.safe_load((ROOT / "config" / "litellm_config.yaml").read_text())
    providers = {m["litellm_params"]["model"].split("/")[0] for m in config["model_list"]}
    assert providers == {"gemini", "openai", "anthropic"}
    assert config["router_settings"]["fallbacks"] and config["router_settings"]["num_retries"] >= 1
    assert config["litellm_settings"]["cache_params"]["type"] == "redis"


IDENTITY_HEADERS = ("X-User-Id", "X-Forwarded-User", "Remote-User", "X-Remote-User", "X-Auth-Request-User")


def test_the_stack_signs_people_in_with_budgets_and_no_client_identity() -> None:
    env = SERVICES["api"]["environment"]
    assert env["AUTH_MODE"] == "password"
    assert env["SIGNUP_OPEN"] == "${SIGNUP_OPEN:-false}"  # closed unless the operator opens it
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required: both replicas sign alike
    # Budgets are on by default: the stack calls a paid model.
    for name in ("BUDGET_PER_SESSION_USD", "BUDGET_PER_USER_DAY_USD"):
        default = re.fullmatch(r"\$\{" + name + r":-([0-9.]+)\}", env[name])
        assert default and float(default.group(1)) > 0, env[name]
    # The UI is published on loopback unless the operator says otherwise.
    assert SERVICES["frontend"]["ports"] == ["${WEB_BIND:-127.0.0.1}:${WEB_PORT:-3000}:80"]
    assert "ports" not in SERVICES["api"]
    # The first-admin step is written where an operator starts the stack.
    assert "agente-films user add admin --admin" in (ROOT / "docker-compose.yml").read_text()
    # nginx never forwards identity headers from clients, in every block that reaches the api,
    # and sets X-Forwarded-For itself.
    nginx = (ROOT / "frontend" / "nginx.conf").read_text()
    blocks = re.findall(r"location [^{]*\{(.*?)\}", nginx, re.DOTALL)
    proxied = [block for block in blocks if "proxy_pass http://api;" in block]
    assert len(proxied) == 2
    for block in proxied:
        for header in IDENTITY_HEADERS:
            assert f'proxy_set_header {header} "";' in block, header
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in block
        assert "$proxy_add_x_forwarded_for" not in block


# -- the UI's security headers in docker-compose: nginx serves the page, with the API's headers --------

NGINX_DIR = ROOT / "frontend" / "nginx"
PAGE_HEADERS, SHARED_HEADERS = NGINX_DIR / "security-headers.conf", NGINX_DIR / "shared-headers.conf"
HASHES_MARK = "__SCRIPT_HASHES__"  # frontend/scripts/nginx-headers.mjs fills in the page's hashes
HOST_MARK = "host.mark.invalid"
SNIPPET_HEAD = (
    "# Generated from the API's own headers (api/guards/headers.py) by backend/tests/test_deploy.py:\n"
    "# UPDATE_NGINX_HEADERS=1 pytest backend/tests/test_deploy.py. Do not edit by hand.\n"
)


def api_headers(path: str, host: str, script_hashes: list[str]) -> dict[str, str]:
    """The headers the API itself puts on a page at `path` for `host`: its real middlewares around
    a bare 200, so that this is the policy the API sends, not a copy of it."""
    import asyncio

    from agente_films.api.guards.headers import SecurityHeaders, SharedResponseHeaders

    async def page(scope, receive, send) -> None:  # noqa: ANN001
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b""})

    app = SecurityHeaders(SharedResponseHeaders(page), script_hashes=script_hashes, docs_paths=frozenset())
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"host", host.encode())]}
    asyncio.run(app(scope, receive, send))
    return {name.decode().lower(): value.decode() for name, value in sent[0]["headers"] if name != b"content-type"}


def snippet(headers: dict[str, str]) -> str:
    lines = [f'add_header {name} "{value}" always;' for name, value in sorted(headers.items())]
    return SNIPPET_HEAD + "\n".join(lines) + "\n"


def expected_snippets() -> dict[Path, str]:
    """The two nginx snippets, from the API's headers: the page's (its socket origin becomes
    nginx's $csp_sockets, the script hashes a mark the image build fills in) and what share
    links add (no-store, noindex)."""
    page = api_headers("/", HOST_MARK, [HASHES_MARK])
    shared = api_headers("/shared/x", HOST_MARK, [HASHES_MARK])
    sockets = f" ws://{HOST_MARK} wss://{HOST_MARK}"
    assert sockets in page["content-security-policy"]
    page["content-security-policy"] = page["content-security-policy"].replace(sockets, "$csp_sockets")
    return {PAGE_HEADERS: snippet(page), SHARED_HEADERS: snippet({k: v for k, v in shared.items() if k not in page})}


def nginx_headers(text: str, **variables: str) -> dict[str, str]:
    headers = {}
    for name, value in re.findall(r'^add_header (\S+) "([^"]*)" always;$', text, re.MULTILINE):
        for variable, replacement in variables.items():
            value = value.replace(f"${variable}", replacement)
        headers[name.lower()] = value
    return headers


def test_the_nginx_header_snippets_are_the_apis_headers() -> None:
    import os

    for path, text in expected_snippets().items():
        if os.environ.get("UPDATE_NGINX_HEADERS"):
            path.write_text(text)
        assert path.read_text() == text, f"{path.name} is stale: UPDATE_NGINX_HEADERS=1 pytest {__file__}"
    assert set(nginx_headers(SHARED_HEADERS.read_text())) == {"cache-control", "x-robots-tag"}


def test_the_built_pages_snippet_has_the_apis_policy_for_the_same_index_html(tmp_path: Path) -> None:
    """The image build's step (scripts/nginx-headers.mjs on dist/index.html) gives what the API
    sends for that index.html, for a host nginx's map names the socket of, and for one it does not."""
    import shutil
    import subprocess

    from agente_films.api.guards.headers import inline_script_hashes
    from tests.conftest import FRONTEND, need_service

    node = shutil.which("node")
    if node is None:
        need_service("node", "install Node.js 20 (the UI's build needs it)")
    index = tmp_path / "index.html"
    built = FRONTEND / "dist" / "index.html"
    index.write_bytes(built.read_bytes() if built.exists() else (FRONTEND / "index.html").read_bytes())
    assert inline_script_hashes(index), "the page has an inline script (its theme), so a hash to check"
    out = tmp_path / "security-headers.conf"
    done = subprocess.run(
        [node, "scripts/nginx-headers.mjs", str(index), str(PAGE_HEADERS), str(out)],
        cwd=FRONTEND, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert HASHES_MARK not in text
    # nginx's map (nginx.conf) names the socket origin for a plain host name, as the API does.
    for host, sockets in (("127.0.0.1:3000", " ws://127.0.0.1:3000 wss://127.0.0.1:3000"), ("", "")):
        assert nginx_headers(text, csp_sockets=sockets) == api_headers("/", host, inline_script_hashes(index))
    nginx = (ROOT / "frontend" / "nginx.conf").read_text()
    csp_map = re.search(r"map \$http_host \$csp_sockets \{(.*?)\n\}", nginx, re.DOTALL).group(1)
    assert '" ws://$http_host wss://$http_host"' in csp_map and re.search(r'default\s+"";', csp_map)


def test_nginx_serves_the_page_with_the_headers_and_keeps_the_port_in_host() -> None:
    nginx = (ROOT / "frontend" / "nginx.conf").read_text()
    blocks = dict(re.findall(r"location ([^{]*?) *\{(.*?)\}", nginx, re.DOTALL))
    # The page, its client-side routes and its files: the API's headers. Share links: no-store,
    # noindex as well (an add_header in a block drops the outer ones, so each block includes them).
    for where in ("/", "/assets/", "/shared/"):
        assert "include /etc/nginx/snippets/security-headers.conf;" in blocks[where], where
    assert "include /etc/nginx/snippets/shared-headers.conf;" in blocks["/shared/"]
    assert "try_files /index.html =404;" in blocks["/shared/"]
    # The api sets its own headers: nginx adds none to what it proxies (no doubled CSP).
    for where, block in blocks.items():
        if "proxy_pass" in block:
            assert "add_header" not in block and "include" not in block, where
            # Host with its port: the api's Origin check compares it with the page's origin, so
            # $host (no port) refused every change made from http://127.0.0.1:3000.
            assert "proxy_set_header Host $http_host;" in block, where
    assert "$host;" not in nginx
    dockerfile = (ROOT / "frontend" / "Dockerfile").read_text()
    assert "node scripts/nginx-headers.mjs dist/index.html nginx/security-headers.conf" in dockerfile
    assert "/etc/nginx/snippets/security-headers.conf" in dockerfile
    assert "nginx/shared-headers.conf /etc/nginx/snippets/shared-headers.conf" in dockerfile


def test_the_k8s_api_probes_use_livez_and_readyz() -> None:
    """Liveness and start-up touch only the process (a database blip restarts no pod); readiness
    checks the database, Redis and the schema."""
    manifests = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "api.yaml").read_text()))
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120  # room to migrate
