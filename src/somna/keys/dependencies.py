"""The running app's API-key cache, as a typed dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from somna.keys.service import KeyCache
from somna.state import app_state

KEY_CACHE = "api_key_cache"


def get_key_cache(request: Request) -> KeyCache:
    return app_state(request).service(KEY_CACHE, KeyCache)


KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]
