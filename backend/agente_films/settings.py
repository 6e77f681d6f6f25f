"""Every setting of the app, read from the environment and `.env` (see .env.example)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The embedded defaults keep everything under the repository's sessions/ folder.
SESSIONS_DIR = Path("sessions")


# How people sign in (settings.auth_mode; the UI reads it from GET /auth/config).
AuthMode = Literal["none", "password", "oidc", "proxy"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Storage
    database_url: str = f"sqlite+aiosqlite:///./{SESSIONS_DIR}/agente_films.db"
    # PostgreSQL connection pool per API process (SQLite uses one connection per session).
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=30, ge=0)
    db_pool_timeout_seconds: float = Field(default=60.0, gt=0)
    artifacts_dir: Path = SESSIONS_DIR / "artifacts"
    redis_url: str | None = None
    run_lock_ttl_seconds: float = Field(default=15.0, gt=0)
    run_stream_ttl_seconds: int = 3600

    # Models
    llm_model: str = "offline"
    agent_models: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    litellm_base_url: str | None = None
    litellm_api_key: str | None = None
    llm_timeout_seconds: float = 60.0
    llm_max_retries: int = 2
    offline_chunk_delay_ms: int = 12
    offline_chunk_words: int = 3

    # Cost control: a run stops before a model call once spending reaches a budget (off when empty)
    budget_per_session_usd: float | None = Field(default=None, ge=0)
    budget_per_user_day_usd: float | None = Field(default=None, ge=0)

    # Agent team
    writers_room_max_iterations: int = Field(default=5, ge=1, le=20)

    # Wikipedia research tool
    wikipedia_base_url: str = "https://en.wikipedia.org"
    wikipedia_timeout_seconds: float = 5.0
    wikipedia_cache_ttl_seconds: int = 7 * 24 * 3600
    wikipedia_max_results: int = 3
    wikipedia_user_agent: str = "AgenteFilms/0.1 (open film-pitch studio; https://github.com/agente-films)"

    # API limits
    max_message_chars: int = 8000
    max_document_bytes: int = 200_000
    max_state_value_chars: int = 20_000
    sync_message_timeout_seconds: float = 600.0
    # Runs executing at once per API process; more wait their turn (a `run_queued` frame) instead
    # of all slowing down together until database connections time out.
    max_active_runs: int = Field(default=24, ge=1)
    cancel_grace_seconds: float = 5.0
    max_branch_events: int = Field(
        default=5000, ge=1,
        description="Most ADK events a branch may copy (POST /sessions/{id}/branches answers 413 above it): "
        "each is one append through ADK's session service, a few milliseconds.",
    )
    default_user_id: str = "local"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Sign-in (auth/): who the caller is. `none` is one local user with no sign-in (make run);
    # `password` local accounts; `oidc` an OpenID Connect provider; `proxy` a gateway's header.
    auth_mode: AuthMode = "none"
    # AUTH_MODE=none serves anyone who can reach the port as the local user: it listens only on
    # loopback unless this says otherwise.
    allow_unauthenticated_remote: bool = False
    # Host names the server answers to (a Host check against DNS rebinding); loopback names and
    # HOST are always allowed. "*" allows any (behind a gateway that checks it).
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Signs cookies' companions (CSRF tokens), share links and the OIDC hand-shake. Empty: a key
    # generated once and kept in sessions/secret_key (one host); several instances need the same.
    secret_key: str | None = None
    signup_open: bool = False
    session_cookie_name: str = "af_session"
    session_days: int = Field(default=14, ge=1, le=365)
    # Secure cookies: None decides per request (https, directly or through a trusted proxy).
    cookie_secure: bool | None = None
    # AUTH_MODE=proxy: only these addresses (IPs or CIDRs) may assert who the user is.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    proxy_user_header: str = "X-Forwarded-User"
    # AUTH_MODE=oidc
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile"
    # Where the app is reached from outside (https://films.example.com); the OIDC redirect and
    # share links are built on it. Empty: the request's own origin.
    public_url: str | None = None

    # Rate limits (limits library; Redis when REDIS_URL is set). 0 turns one off.
    rate_limit_ip_per_minute: int = Field(default=100, ge=0)
    rate_limit_user_per_hour: int = Field(default=1000, ge=0)
    rate_limit_runs_per_user_hour: int = Field(default=60, ge=0)
    max_concurrent_runs_per_user: int = Field(default=3, ge=0)
    max_sockets_per_user: int = Field(default=20, ge=0)
    signin_attempts_per_account_15min: int = Field(default=10, ge=0)
    signin_attempts_per_ip_hour: int = Field(default=50, ge=0)
    # Sizes refused before parsing: bodies (413) and request headers (431).
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_header_bytes: int = Field(default=16_384, ge=1024)

    # Retention (seed 004, 5.5): idle sessions become read-only, then are deleted. 0 turns one off.
    retention_archive_days: int = Field(default=90, ge=0)
    retention_purge_days: int = Field(default=180, ge=0)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)

    # Server
    host: str = "127.0.0.1"
    port: int = 8000
    frontend_dist: Path = Path("frontend/dist")
    log_level: str = "info"

    @field_validator("agent_models", mode="before")
    @classmethod
    def _parse_agent_models(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return {}
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    'AGENT_MODELS must be a JSON object, e.g. {"critic": "openai/gpt-4o-mini"}'
                ) from exc
        return value

    @field_validator("budget_per_session_usd", "budget_per_user_day_usd", "redis_url", "litellm_base_url", "litellm_api_key",
        "secret_key", "oidc_issuer", "oidc_client_id", "oidc_client_secret", "public_url", "cookie_secure", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _oidc_is_configured(self) -> Settings:
        # Fail at startup, not at the first sign-in: which settings AUTH_MODE=oidc still needs.
        if self.auth_mode == "oidc":
            missing = [env for env, value in (("OIDC_ISSUER", self.oidc_issuer), ("OIDC_CLIENT_ID", self.oidc_client_id))
                       if not value]
            if missing:
                raise ValueError(f"AUTH_MODE=oidc needs {' and '.join(missing)} (see .env.example)")
        return self

    @model_validator(mode="after")
    def _several_instances_share_a_key(self) -> Settings:
        # With REDIS_URL set there are (or may be) several instances; each would generate its own
        # key, and a CSRF token or share link made by one would fail on the other.
        if self.redis_url and not self.secret_key:
            raise ValueError(
                "REDIS_URL is set (several instances share Redis) but SECRET_KEY is empty: every instance "
                "must sign CSRF tokens, share links and the OIDC hand-shake with the same key. Set "
                "SECRET_KEY to the same long random value everywhere (e.g. `openssl rand -base64 48`)."
            )
        return self

    @model_validator(mode="after")
    def _no_open_host_without_sign_in(self) -> Settings:
        # The Host check is what stops DNS rebinding: a site the attacker owns points its name at
        # this server and its page, same-origin under that name, drives the API. With no sign-in
        # nothing else stands in the way.
        if self.auth_mode == "none" and "*" in (host.strip() for host in self.allowed_hosts):
            raise ValueError(
                'ALLOWED_HOSTS="*" with AUTH_MODE=none would let any web page the user visits drive this '
                "server (DNS rebinding). List the host names it is reached by in ALLOWED_HOSTS, or turn "
                "sign-in on (AUTH_MODE=password, oidc or proxy)."
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def model_for(self, agent_name: str) -> str:
        return self.agent_models.get(agent_name, self.llm_model)


@lru_cache
def get_settings() -> Settings:
    return Settings()
