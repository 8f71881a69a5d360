from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from somna.config import ConfigurationError, Settings, ensure_secret_key

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_default_database_is_a_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'somna.db'}"
    assert settings.run_mode == "embedded"


def test_embedded_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = ensure_secret_key(_settings(tmp_path)).secret_key_value()
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    second = ensure_secret_key(_settings(tmp_path)).secret_key_value()
    assert second == first  # tokens signed before a restart stay valid after it


def test_postgres_refuses_a_missing_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="must be set on PostgreSQL"):
        ensure_secret_key(_settings(tmp_path, database_url=PG))
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("short", "shorter than 32"),
        ("changeme", "shorter than 32"),
        ("a" * 40, "placeholder"),
        ("changemechangemechangemechangeme", "placeholder"),
    ],
)
def test_postgres_refuses_a_weak_secret(tmp_path: Path, secret: str, reason: str) -> None:
    settings = _settings(tmp_path, database_url=PG, secret_key=SecretStr(secret))
    with pytest.raises(ConfigurationError, match=reason):
        ensure_secret_key(settings)


def test_postgres_accepts_a_strong_secret(tmp_path: Path) -> None:
    strong = "Zq8v1m3K0pXc7RtY5wLb2NfH9sGdJ4eA6uVi"
    settings = ensure_secret_key(_settings(tmp_path, database_url=PG, secret_key=SecretStr(strong)))
    assert settings.secret_key_value() == strong
    assert settings.run_mode == "distributed"


def test_settings_read_the_somna_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOMNA_WHOOP_CLIENT_ID", "client-1")
    monkeypatch.setenv("SOMNA_ASLEEP_API_BASE", "http://127.0.0.1:9999")
    settings = _settings(tmp_path)
    assert settings.whoop_client_id == "client-1"
    assert settings.asleep_api_base == "http://127.0.0.1:9999"
    assert settings.whoop_api_base == "https://api.prod.whoop.com/developer"
    assert settings.whoop_oauth_base == "https://api.prod.whoop.com/oauth/oauth2"
