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

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".somna")
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

    model_config = SettingsConfigDict(
        env_prefix="SOMNA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
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
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL the API is reached at.")
    environment: Literal["development", "production", "test"] = "development"
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    access_token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_days: int = Field(30, ge=1, le=365)

    whoop_client_id: str = ""
    whoop_client_secret: SecretStr = SecretStr("")
    whoop_redirect_uri: str = ""
    whoop_api_base: str = "https://api.prod.whoop.com/developer"
    whoop_oauth_base: str = "https://api.prod.whoop.com/oauth/oauth2"
    asleep_api_key: SecretStr = SecretStr("")
    asleep_api_base: str = "https://api.asleep.ai"

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'somna.db'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def run_mode(self) -> Literal["embedded", "distributed"]:
        return "embedded" if self.is_sqlite else "distributed"

    def secret_key_value(self) -> str:
        """The secret key; only valid after :func:`ensure_secret_key`."""
        if self.secret_key is None:
            raise ConfigurationError("SOMNA_SECRET_KEY is not set")
        return self.secret_key.get_secret_value()


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
