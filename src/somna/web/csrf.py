"""CSRF tokens: an HMAC of the browser's session cookie (or, before sign-in, of a random
sign-in cookie) under the server's secret. A form must send it back as ``csrf_token``."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from somna.config import Settings

SESSION_COOKIE = "somna_session"
SIGNIN_COOKIE = "somna_signin"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def csrf_token(settings: Settings, cookie_value: str) -> str:
    key = settings.secret_key_value().encode()
    return hmac.new(key, b"somna-csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def csrf_valid(settings: Settings, cookies: Mapping[str, str], submitted: str | None) -> bool:
    """True when ``submitted`` matches the token of a cookie this browser holds."""
    if not submitted:
        return False
    for name in (SESSION_COOKIE, SIGNIN_COOKIE):
        value = cookies.get(name)
        if value and hmac.compare_digest(csrf_token(settings, value), submitted):
            return True
    return False
