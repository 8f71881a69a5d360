"""The start page, signing in (also the landing page) and signing out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from somna.auth.endpoints import _login_limits as login_limits
from somna.auth.exceptions import InvalidCredentials
from somna.db import SessionDep
from somna.ratelimit.http import RateLimitExceeded, check, refuse_when_spent
from somna.web.csrf import SESSION_COOKIE, SIGNIN_COOKIE, csrf_token
from somna.web.dependencies import current_session, settings_of
from somna.web.routes import page_router
from somna.web.sessions import SignedIn, sign_in, sign_out, signed_in
from somna.web.templating import render

router = page_router()


def home_of(signed: SignedIn) -> str:
    """Staff land on the overview; a member on their own page."""
    person_id = signed.principal.person_id
    return f"/people/{person_id}" if person_id is not None else "/overview"


def _safe_next(value: str | None) -> str | None:
    """Only a path on this server: never another origin (``//host`` or ``/\\host``)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    return value


def _secure(request: Request) -> bool:
    """Secure cookies over HTTPS: the public URL says so, or a trusted proxy did
    (uvicorn sets the scheme from ``X-Forwarded-Proto`` for ``--forwarded-allow-ips``)."""
    return settings_of(request).public_url.startswith("https://") or request.url.scheme == "https"


@router.get("/")
async def start(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    signed = await signed_in(session, token) if token else None
    return RedirectResponse(home_of(signed) if signed else "/sign-in", status_code=303)


def _sign_in_page(
    request: Request,
    *,
    status_code: int = 200,
    error: str | None = None,
    email: str = "",
    next_path: str | None = None,
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    message = "You have signed out." if request.query_params.get("signed_out") else None
    context = {
        "title": "Sign in",
        "csrf": csrf_token(settings_of(request), token),
        "error": error,
        "message": message,
        "email": email,
        "next": next_path or _safe_next(request.query_params.get("next")) or "",
    }
    response = render(request, "sign_in.html", context, status_code=status_code)
    response.set_cookie(
        SIGNIN_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request) -> HTMLResponse:
    return _sign_in_page(request)


@router.post("/sign-in")
async def sign_in_form(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    limits = login_limits(request, email)
    try:
        await refuse_when_spent(request.scope, limits)
        token, web_session = await sign_in(session, settings_of(request), email, password)
    except RateLimitExceeded as exc:
        error = f"Too many failed sign-ins; try again in {exc.result.retry_after} s."
        return _sign_in_page(request, status_code=429, error=error, email=email)
    except InvalidCredentials:
        await check(request.scope, limits, raise_on_refusal=False)
        return _sign_in_page(
            request, status_code=401, error="Wrong email or password.", email=email,
            next_path=_safe_next(next_path),
        )  # fmt: skip
    target = _safe_next(next_path) or "/"
    response = RedirectResponse(target, status_code=303)
    max_age = int((web_session.expires_at - web_session.created_at).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
        secure=_secure(request), path="/",
    )  # fmt: skip
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out_form(
    request: Request, session: SessionDep, signed: Annotated[SignedIn, Depends(current_session)]
) -> Response:
    await sign_out(session, signed.web_session)
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
