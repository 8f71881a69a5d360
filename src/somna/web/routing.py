"""How every page is answered: CSRF checked before anything runs, errors rendered as pages
(never a stack trace), and a missing sign-in sent to the sign-in page."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from somna.errors import SomnaError
from somna.kit.access import note_failure
from somna.state import app_state
from somna.web.csrf import FIELD, HEADER, SESSION_COOKIE, csrf_token, csrf_valid
from somna.web.templating import render

log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNED_IN_SCOPE_KEY = "somna.web.signed_in"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class SignInRequired(Exception):
    """No live session: the browser goes to the sign-in page, then back."""


class CsrfRefused(SomnaError):
    status_code, error_code = 403, "csrf_refused"


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/sign-in?next={quote(target, safe='')}"
    if request.headers.get("hx-request"):
        # htmx follows a redirect inside the fragment; ask it to load the whole page instead.
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_page(
    request: Request, status_code: int, title: str, detail: str, headers: dict[str, str] | None
) -> Response:
    signed = request.scope.get(SIGNED_IN_SCOPE_KEY)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    context = {
        "title": title,
        "detail": detail,
        "status_code": status_code,
        "signed": signed,
        "csrf": csrf_token(app_state(request).settings, cookie) if signed else "",
    }
    response = render(request, "error.html", context, status_code=status_code)
    response.headers.update(headers or {})
    return response


_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Page not found",
    409: "Conflict",
    422: "Please check the form",
    429: "Too many requests",
    503: "Temporarily unavailable",
}


def somna_error_page(request: Request, exc: SomnaError) -> Response:
    title = _TITLES.get(exc.status_code, "Something went wrong")
    detail = exc.detail
    if exc.status_code == 404:
        detail = "There is no such page, or you may not see it."
    return error_page(request, exc.status_code, title, detail, exc.headers)


def _validation_page(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(item["loc"] and item["loc"][0] == "path" for item in errors):
        return error_page(
            request, 404, _TITLES[404], "There is no such page, or you may not see it.", None
        )
    fields = "; ".join(f"{item['loc'][-1]}: {item['msg']}" for item in errors if item.get("loc"))
    return error_page(request, 422, _TITLES[422], fields or "The form was not complete.", None)


class PageRoute(APIRoute):
    """An APIRoute whose errors become HTML pages and whose unsafe methods need a CSRF token."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                if request.method not in SAFE_METHODS:
                    await _check_csrf(request)
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except SomnaError as exc:
                note_failure(request, exc.status_code)  # the audit records refusals
                return somna_error_page(request, exc)
            except RequestValidationError as exc:
                note_failure(request, 422)  # a malformed id touched no data
                return _validation_page(request, exc)
            except Exception as exc:
                note_failure(request, 500)
                log.exception("web.unhandled_error", error_type=type(exc).__name__)
                return error_page(
                    request,
                    500,
                    "Something went wrong",
                    "An unexpected error occurred; it was logged. Please try again.",
                    None,
                )

        return page_handler


async def _check_csrf(request: Request) -> None:
    submitted = request.headers.get(HEADER)
    if submitted is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(FIELD)
            submitted = value if isinstance(value, str) else None
    settings = app_state(request).settings
    if not csrf_valid(settings, request.cookies, submitted):
        raise CsrfRefused(
            "This form has expired or did not come from this site. Reload the page and try again."
        )
