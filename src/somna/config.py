"""Settings from the environment (prefix ``SOMNA_``) and an optional ``.env`` file.

Two run modes follow from two settings and nothing else: a ``sqlite`` database URL (the default)
means the embedded mode, a ``postgresql`` one means the distributed mode. See
``docs/configuration.md`` for every setting.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from somna.kit.crypto import SecretBox

DEFAULT_DATA_DIR = Path(".somna")
# Written by `somna demo` in the folder it runs in: where its provider sandboxes listen.
DEMO_ENV_FILE = DEFAULT_DATA_DIR / "demo.env"
MIN_SECRET_LENGTH = 32
# Values people paste from examples; refusing them on a shared deployment is cheap insurance.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "your-secret-key", "please-change-me", "dev", "test"}
)
SECRET_KEY_FILE = "secret_key"


class ConfigurationError(RuntimeError):
    """The settings cannot run Somna; the message says which setting and why."""


class Settings(BaseSettings):
    """Every knob Somna reads at start-up."""

    # `.env` wins over the demo's file: the demo only says where its sandboxes live.
    model_config = SettingsConfigDict(
        env_prefix="SOMNA_",
        env_file=(DEMO_ENV_FILE, ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where the embedded mode keeps its files.")
    database_url: str = Field(
        "", description="SQLAlchemy async URL; empty means a SQLite file under data_dir."
    )
    redis_url: str | None = Field(None, description="Redis for shared rate limits and pacing.")
    redis_prefix: str = Field("somna:", description="Prefix of every Redis key Somna writes.")
    secret_key: SecretStr | None = Field(
        None, description="Signs tokens and derives encryption keys; at least 32 characters."
    )
    secret_key_fallbacks: SecretStr = Field(
        SecretStr(""),
        description="Earlier secret keys, comma-separated: still read, never used to write.",
    )
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL the API is reached at.")
    environment: Literal["development", "production", "test"] = "development"
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    access_token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_days: int = Field(30, ge=1, le=365)
    refresh_reuse_grace_seconds: int = Field(
        10, ge=0, le=300, description="How long the just-rotated refresh token stays usable."
    )
    api_key_rotation_grace_seconds: int = Field(86_400, ge=0, le=2_592_000)
    api_key_cache_seconds: float = Field(
        5.0, ge=0, le=300, description="How long a process reuses a looked-up API key."
    )
    signature_tolerance_seconds: int = Field(300, ge=30, le=3600)
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = Field(600, ge=1, description="Per API key or account.")
    rate_limit_org_per_minute: int = Field(6000, ge=1, description="Per organisation.")
    rate_limit_anonymous_per_minute: int = Field(
        300, ge=1, description="Per client address, for requests without credentials."
    )
    events_per_hour: int = Field(
        1000, ge=1, description="Usage-analytics events per hour per key, unless the key says."
    )
    login_failures_per_email: int = Field(10, ge=1)
    login_failures_per_address: int = Field(50, ge=1)
    login_failure_window_seconds: int = Field(900, ge=60)
    rate_limit_fail_open: bool = Field(
        True, description="Admit requests when the rate-limit store does not answer."
    )

    whoop_client_id: str = ""
    whoop_client_secret: SecretStr = SecretStr("")
    whoop_redirect_uri: str = ""
    whoop_api_base: str = "https://api.prod.whoop.com/developer"
    whoop_oauth_base: str = "https://api.prod.whoop.com/oauth/oauth2"
    asleep_api_key: SecretStr = SecretStr("")
    asleep_api_base: str = "https://api.asleep.ai"
    asleep_stage_plan: Literal["4-stage", "2-stage"] = Field(
        "4-stage", description="Asleep data plan: 2-stage sleep_stages code 1 as 'asleep'."
    )
    whoop_webhook_tolerance_seconds: int = Field(
        300, ge=0, le=86_400, description="Max age of a WHOOP webhook timestamp; 0 disables."
    )
    provider_timeout_seconds: float = Field(30.0, gt=0, le=300)
    provider_max_retries: int = Field(4, ge=0, le=10)
    provider_max_retry_wait_seconds: float = Field(
        60.0, ge=0, description="Longer rate-limit waits are handed back to the job, not slept."
    )

    # Background jobs (somna.jobs) and the provider budget (somna.pacing).
    job_queue: Literal["auto", "embedded", "procrastinate"] = Field(
        "auto", description="auto: embedded on SQLite, Procrastinate on PostgreSQL."
    )
    worker_in_app: bool | None = Field(
        None,
        description="Run the embedded worker inside `somna serve`; unset: yes, but not in tests.",
    )
    worker_concurrency: int = Field(4, ge=1, le=256)
    worker_restart_base_seconds: float = Field(
        1.0, ge=0, description="First wait before the in-app worker restarts after a crash."
    )
    worker_restart_max_seconds: float = Field(
        60.0, ge=0, description="Longest wait between restarts of the in-app worker."
    )
    worker_restart_limit: int = Field(
        5, ge=1, description="Crashes in a row after which /health says the worker is gone."
    )
    job_lease_seconds: float = Field(30.0, gt=0, description="Embedded lease; renewed every third.")
    job_poll_seconds: float = Field(1.0, gt=0, le=60)
    job_retry_base_seconds: float = Field(10.0, ge=0)
    job_retry_max_seconds: float = Field(3600.0, ge=0)
    job_stalled_seconds: float = Field(
        30.0, gt=0, description="Procrastinate: worker presumed dead."
    )
    job_stalled_check_seconds: int = Field(60, ge=1, le=60)
    job_retention_days: int = Field(7, ge=1)
    webhook_retention_days: int = Field(
        30,
        ge=1,
        description="Processed incoming provider webhook events (and payloads) are kept this long.",
    )
    usage_event_retention_days: int = Field(
        400, ge=1, description="Usage-analytics events are kept this long after they arrived."
    )
    redrive_after_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        description="Webhook events and exports still waiting this long get their job again.",
    )
    pacer_max_wait_seconds: float = Field(120.0, ge=0)
    whoop_requests_per_minute: int = Field(100, ge=0)
    whoop_requests_per_day: int = Field(10_000, ge=0)
    asleep_requests_per_minute: int = Field(0, ge=0, description="0: no published limit.")
    asleep_requests_per_day: int = Field(0, ge=0)

    # Sync of connections (somna.sync) and connect flows (somna.connections).
    sync_backfill_days: int = Field(
        90, ge=1, le=3650, description="History the first sync of a connection fetches."
    )
    sync_overlap_hours: float = Field(
        48.0, ge=0, le=720, description="How far an incremental sync re-reads before the last."
    )
    sync_interval_minutes: int = Field(
        60, ge=0, le=10_080, description="Scheduled sync of every connection; 0 turns it off."
    )
    sync_page_size: int = Field(
        25, ge=1, le=100, description="Records asked per page (capped by the provider)."
    )
    sync_pages_per_commit: int = Field(
        4, ge=1, le=50, description="Pages of a collection a sync commits in one transaction."
    )
    connect_return_to_origins: str = Field(
        "", description="Comma-separated origins a connect flow may send the browser back to."
    )

    # Exports (somna.exports).
    export_dir: Path | None = Field(
        None, description="Where API exports are written; unset: data_dir/exports."
    )
    export_batch_size: int = Field(
        500, ge=1, le=10_000, description="Rows read per query while exporting."
    )
    export_retention_days: int = Field(
        7, ge=1, description="API exports older than this are deleted daily."
    )

    # The privacy lifecycle (somna.privacy).
    deletion_grace_days: int = Field(
        7,
        ge=0,
        le=365,
        description="Days a deleted person stays hidden and restorable; 0 deletes at once.",
    )

    # Outgoing webhooks (somna.outgoing).
    webhooks_allow_private: bool = Field(
        False,
        description="Let webhook endpoints use http and private or loopback addresses.",
    )
    webhook_retry_schedule: str = Field(
        "5,300,1800,7200,18000,36000,36000",
        description="Seconds between delivery attempts, comma-separated; one retry per value.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="How long a webhook endpoint has to answer an attempt."
    )
    outgoing_webhook_retention_days: int = Field(
        30,
        ge=1,
        description="Outgoing events and their delivery log are kept this long once settled.",
    )

    # The audit log (somna.audit).
    audit_enabled: bool = Field(
        True,
        description="Record access to personal data and administrative actions (off only to "
        "measure its cost).",
    )
    audit_flush_seconds: float = Field(
        0.5,
        gt=0,
        le=1.0,
        description="Longest time a recorded read waits in memory before it is written.",
    )
    audit_buffer_size: int = Field(
        500, ge=1, le=100_000, description="Buffered reads that trigger a write at once."
    )

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'somna.db'}"
        return self

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _check_retry_schedule(cls, value: str) -> str:
        _parse_schedule(value)
        return value

    @property
    def webhook_retry_delays(self) -> tuple[float, ...]:
        """``SOMNA_WEBHOOK_RETRY_SCHEDULE`` as seconds: the wait before each retry, in order."""
        return _parse_schedule(self.webhook_retry_schedule)

    @property
    def exports_path(self) -> Path:
        """The folder API exports are built in."""
        return self.export_dir if self.export_dir is not None else self.data_dir / "exports"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def run_mode(self) -> Literal["embedded", "distributed"]:
        return "embedded" if self.is_sqlite else "distributed"

    @property
    def job_backend(self) -> Literal["embedded", "procrastinate"]:
        """The job-queue adapter: Procrastinate needs PostgreSQL, so SQLite always embeds."""
        if self.job_queue == "auto":
            return "embedded" if self.is_sqlite else "procrastinate"
        if self.job_queue == "procrastinate" and self.is_sqlite:
            raise ConfigurationError("SOMNA_JOB_QUEUE=procrastinate needs a PostgreSQL database")
        return self.job_queue

    @property
    def runs_worker_in_app(self) -> bool:
        """Whether the API process also runs jobs (embedded adapter only)."""
        if self.job_backend != "embedded":
            return False
        if self.worker_in_app is None:
            return self.environment != "test"
        return self.worker_in_app

    def secret_key_value(self) -> str:
        """The secret key; only valid after :func:`ensure_secret_key`."""
        if self.secret_key is None:
            raise ConfigurationError("SOMNA_SECRET_KEY is not set")
        return self.secret_key.get_secret_value()

    def secret_key_fallback_values(self) -> list[str]:
        """The earlier secret keys that still decrypt and verify (``SOMNA_SECRET_KEY_FALLBACKS``),
        without the current one."""
        current = self.secret_key.get_secret_value() if self.secret_key else None
        keys = (item.strip() for item in self.secret_key_fallbacks.get_secret_value().split(","))
        return [key for key in dict.fromkeys(keys) if key and key != current]

    def secret_box(self, purpose: str) -> SecretBox:
        """Encryption for one purpose under the current key, reading the fallbacks too."""
        return SecretBox(
            self.secret_key_value(), purpose, fallbacks=self.secret_key_fallback_values()
        )


def _parse_schedule(value: str) -> tuple[float, ...]:
    """Comma-separated non-negative seconds; an empty value means no retries."""
    parts = [item.strip() for item in value.split(",") if item.strip()]
    try:
        delays = tuple(float(item) for item in parts)
    except ValueError:
        raise ValueError(f"not a list of seconds: {value!r}") from None
    if any(delay < 0 for delay in delays):
        raise ValueError(f"negative delay in {value!r}")
    return delays


def _is_weak(secret: str) -> str | None:
    if len(secret) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if secret.strip().lower() in PLACEHOLDER_SECRETS or len(set(secret)) < 8:
        return "a placeholder, not a random value"
    return None


def _load_or_create_secret(data_dir: Path) -> str:
    """Read the embedded secret, creating it (mode 0600) on first use."""
    path = data_dir / SECRET_KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(48)
    # O_EXCL: if two processes race on first start, exactly one writes and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


def ensure_secret_key(settings: Settings) -> Settings:
    """Fill in or check the secret key, by run mode.

    Embedded: a missing key is generated once and kept in ``data_dir`` so tokens survive restarts.
    Distributed: several processes must share one strong key, so a missing, short or placeholder
    key stops start-up.
    """
    if settings.secret_key is not None:
        problem = _is_weak(settings.secret_key.get_secret_value())
        if problem is not None:
            raise ConfigurationError(f"SOMNA_SECRET_KEY is {problem}; set a random value")
        return settings
    if not settings.is_sqlite:
        raise ConfigurationError(
            "SOMNA_SECRET_KEY must be set on PostgreSQL: every process needs the same key "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    settings.secret_key = SecretStr(_load_or_create_secret(settings.data_dir))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, with the secret key resolved."""
    return ensure_secret_key(Settings())
