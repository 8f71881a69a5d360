"""Profiles: where a server is and how to authenticate to it, kept in
``$XDG_CONFIG_HOME/somna/config.toml`` (``~/.config/somna/config.toml``), mode 0600.

    [default]
    url = "http://127.0.0.1:8000"
    api_key = "somna_live_..."
    signing_secret = "..."

A profile made with an email and password keeps a refresh token instead of a key; it rotates
with every use, so the file is rewritten after each command.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PROFILE = "default"
FIELDS = ("url", "api_key", "signing_secret", "refresh_token", "email")


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "somna" / "config.toml"


@dataclass
class Overrides:
    """What the command line and the environment say, over the profile."""

    profile: str | None = None
    url: str | None = None
    api_key: str | None = None


@dataclass
class Profile:
    name: str
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name) or None


def load_all(path: Path | None = None) -> dict[str, dict[str, str]]:
    path = path or config_path()
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {
        name: {key: str(value) for key, value in table.items() if key in FIELDS}
        for name, table in data.items()
        if isinstance(table, dict)
    }


def load(name: str | None) -> Profile:
    chosen = name or os.environ.get("SOMNA_PROFILE") or DEFAULT_PROFILE
    return Profile(chosen, load_all().get(chosen, {}))


def save(profile: Profile) -> Path:
    """Write ``profile`` beside the others; the file is created 0600 and kept so."""
    profiles = load_all()
    profiles[profile.name] = {key: value for key, value in profile.values.items() if value}
    return _write(profiles)


def remove(name: str) -> bool:
    profiles = load_all()
    if profiles.pop(name, None) is None:
        return False
    _write(profiles)
    return True


def _write(profiles: dict[str, dict[str, str]]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines: list[str] = []
    for name, values in profiles.items():
        lines.append(f"[{json.dumps(name)}]")
        # A JSON string is a valid TOML basic string.
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        lines.append("")
    temporary = path.with_suffix(".toml.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path
