"""Where a browser may be sent back to after connecting: a path here or an allowed origin."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from somna.config import Settings
from somna.connections.exceptions import ReturnToNotAllowed


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_return_to(settings: Settings, return_to: str | None) -> str | None:
    """A path on this server, or a URL on an allowed origin; anything else is refused."""
    if return_to is None:
        return None
    value = return_to.strip()
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    allowed = {
        origin
        for origin in (
            _origin(item.strip()) for item in settings.connect_return_to_origins.split(",")
        )
        if origin
    }
    public = _origin(settings.public_url)
    if public:
        allowed.add(public)
    if _origin(value) not in allowed:
        raise ReturnToNotAllowed(
            "return_to must be a path on this server or a URL on an allowed origin "
            "(SOMNA_CONNECT_RETURN_TO_ORIGINS).",
            field="return_to",
        )
    return value


def with_query(url: str, **params: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{urlencode(params)}"
