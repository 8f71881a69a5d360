"""The Jinja2 environment of the dashboard: templates, filters for times in a person's zone,
durations and numbers, and the response headers every page carries."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from somna import __version__
from somna.kit.time import zone_or_utc

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
# Pages load scripts, styles and data from this server only; charts get their data from JSON
# blocks, never from inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _zone(name: str | tzinfo | None) -> tzinfo:
    return name if isinstance(name, tzinfo) else zone_or_utc(name)


def local_time(value: datetime | None, zone: str | tzinfo | None = None, fmt: str = "") -> str:
    """``value`` in ``zone``: "3 Dec 2026, 07:12" (or ``fmt``)."""
    if value is None:
        return "never"
    moment = value.astimezone(_zone(zone))
    return moment.strftime(fmt or "%-d %b %Y, %H:%M")


def local_date(value: date | None) -> str:
    return "-" if value is None else value.strftime("%a %-d %b %Y")


def duration(seconds: float | None) -> str:
    """7 h 05 min; "-" when unknown."""
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    hours, rest = divmod(abs(minutes), 60)
    sign = "-" if minutes < 0 else ""
    return f"{sign}{hours} h {rest:02d} min" if hours else f"{sign}{rest} min"


def number(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}{unit}"


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(
    local_time=local_time, local_date=local_date, duration=duration, number=number
)
templates.env.globals.update(version=__version__)


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, template, context, status_code=status_code, headers=SECURITY_HEADERS
    )
    return response
