"""Settings: the organisation's default time zone, source priority and record retention (owners
and admins), and a person's preferences (sleep goal, time zone, source priority)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from somna.auth.scopes import SENSITIVE_ROLES
from somna.errors import Forbidden
from somna.orgs import service as orgs
from somna.orgs.repository import OrganizationRepository
from somna.orgs.schemas import OrganizationSettings
from somna.people import service as users
from somna.people.schemas import PROVIDER_NAMES, Preferences
from somna.web.dependencies import Page
from somna.web.routes import page_router
from somna.web.routes.person import load_person

router = page_router()
PRIORITY_CHOICES = {
    "": "The night with stage data wins",
    "whoop,asleep": "WHOOP first, then Asleep",
    "asleep,whoop": "Asleep first, then WHOOP",
}


def _priority(value: str) -> list[str] | None:
    return [item for item in value.split(",") if item in PROVIDER_NAMES] or None


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{item['loc'][-1]}: {item['msg']}" for item in exc.errors())


@router.get("/settings")
async def settings_page(page: Page, saved: bool = False, error: str | None = None) -> HTMLResponse:
    page.require_staff()
    page.require("organizations:read")
    organization = await OrganizationRepository(page.session).get_tenant(
        page.principal.organization_id
    )
    if organization is None:
        raise Forbidden("No organisation.")
    current = organization.settings
    return page.render(
        "settings.html",
        title="Settings",
        organization=organization,
        timezone=current.get("timezone", "UTC"),
        priority=",".join(current.get("source_priority") or []),
        retention_days=current.get("retention_days"),
        choices=PRIORITY_CHOICES,
        saved=saved,
        error=error,
        can_write=page.principal.role in SENSITIVE_ROLES,
    )


@router.post("/settings")
async def save_settings(
    page: Page,
    timezone: Annotated[str, Form(max_length=64)],
    source_priority: Annotated[str, Form(max_length=40)] = "",
    retention_days: Annotated[str, Form(max_length=10)] = "",
) -> RedirectResponse:
    page.require_admin()
    page.require("organizations:write")
    try:
        checked = OrganizationSettings(
            timezone=timezone.strip(), retention_days=retention_days.strip() or None
        )
    except ValidationError as exc:
        return RedirectResponse(f"/settings?error={_errors(exc)}", status_code=303)
    await orgs.update_settings(
        page.session,
        page.principal.organization_id,
        {
            "timezone": checked.timezone,
            "source_priority": _priority(source_priority),
            "retention_days": checked.retention_days,
        },
    )
    return RedirectResponse("/settings?saved=true", status_code=303)


@router.get("/people/{person_id}/settings")
async def preferences_page(
    person_id: uuid.UUID, page: Page, saved: bool = False, error: str | None = None
) -> HTMLResponse:
    page.require("users:read")
    person = await load_person(page, person_id)
    preferences = await users.get_preferences(page.session, person)
    return page.render(
        "preferences.html",
        title="Preferences",
        person=person,
        preferences=preferences,
        priority=",".join(preferences.source_priority or []),
        choices=PRIORITY_CHOICES,
        saved=saved,
        error=error,
        can_write=page.principal.has("users:write"),
    )


@router.post("/people/{person_id}/settings")
async def save_preferences(
    person_id: uuid.UUID,
    page: Page,
    sleep_goal_hours: Annotated[float, Form()],
    timezone: Annotated[str, Form(max_length=64)] = "",
    source_priority: Annotated[str, Form(max_length=40)] = "",
) -> RedirectResponse:
    page.require("users:write")
    person = await load_person(page, person_id)
    back = f"/people/{person.id}/settings"
    try:
        payload = Preferences(
            sleep_goal_hours=sleep_goal_hours,
            timezone=timezone.strip() or None,
            source_priority=_priority(source_priority),
        )
    except ValidationError as exc:
        return RedirectResponse(f"{back}?error={_errors(exc)}", status_code=303)
    await users.put_preferences(page.session, person, payload)
    return RedirectResponse(f"{back}?saved=true", status_code=303)
