"""Which providers exist. A new vendor is a package under ``providers/`` and one line here."""

from __future__ import annotations

import importlib
from functools import cache

from somna.providers.base import Capabilities, Provider
from somna.providers.exceptions import UnknownProvider

# name → "module:Class"; imported on first use so the CLI stays quick to start.
_PROVIDERS: dict[str, str] = {
    "whoop": "somna.providers.whoop.provider:WhoopProvider",
    "asleep": "somna.providers.asleep.provider:AsleepProvider",
}


def provider_names() -> tuple[str, ...]:
    return tuple(_PROVIDERS)


@cache
def get_provider(name: str) -> type[Provider]:
    """The provider class called ``name``; :class:`UnknownProvider` if there is none."""
    target = _PROVIDERS.get(name)
    if target is None:
        raise UnknownProvider(f"No provider called {name!r}; known: {', '.join(_PROVIDERS)}.")
    module_name, _, class_name = target.partition(":")
    provider: type[Provider] = getattr(importlib.import_module(module_name), class_name)
    return provider


def capabilities(name: str) -> Capabilities:
    return get_provider(name).capabilities
