"""The organisation at a glance: people, sources, the last sync, the distributions of the
organisation statistics, and who shows a moderate or high burnout signal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi.responses import HTMLResponse

from somna.analytics import cohort_service, person_context, person_service
from somna.connections import service as connections
from somna.models import Person
from somna.people import service as users
from somna.sync import service as sync
from somna.web import charts
from somna.web.dependencies import Page, PageContext
from somna.web.routes import page_router

router = page_router()
ORGANIZATION_DAYS = 30
PEOPLE_BATCH = 500


@dataclass(frozen=True)
class Flagged:
    person: Person
    level: str
    risk: float | None
    main_factor: str | None


async def everyone(page: PageContext) -> list[Person]:
    """Every person of the organisation, through the API's keyset pages."""
    people: list[Person] = []
    cursor: str | None = None
    while True:
        batch, cursor = await users.list_people(
            page.session, page.principal.organization_id, limit=PEOPLE_BATCH, cursor=cursor
        )
        people.extend(batch)
        if cursor is None:
            return people


async def _flagged(page: PageContext, people: list[Person]) -> list[Flagged]:
    flagged = []
    for person in people:
        ctx = await person_context.person_context(page.session, person, page.now)
        result = await person_service.burnout(page.session, ctx, 0)
        if result.level not in ("moderate", "high"):
            continue
        main = max(result.factors, key=lambda factor: factor.contribution, default=None)
        name = main.name if main is not None and main.contribution > 0 else None
        flagged.append(Flagged(person, result.level, result.risk, name))
    return sorted(flagged, key=lambda item: -(item.risk or 0))


def _sources(counts: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    by_provider: dict[str, dict[str, int]] = {}
    for (provider, status), count in sorted(counts.items()):
        by_provider.setdefault(provider, {})[status] = count
    return [{"provider": name, "statuses": statuses} for name, statuses in by_provider.items()]


@router.get("/overview")
async def overview(page: Page) -> HTMLResponse:
    page.require_staff()
    page.require("analytics:read", "users:read")
    principal = page.principal
    organization_id = principal.organization_id
    stats = await cohort_service.organization_statistics(
        page.session, principal, organization_id, ORGANIZATION_DAYS, page.now
    )
    people = await everyone(page)
    runs, _ = await sync.list_runs(
        page.session, principal, person_id=None, provider=None, status=None, limit=1, cursor=None
    )
    counts = await connections.organization_status_counts(page.session, organization_id)
    return page.render(
        "overview.html",
        title="Overview",
        stats=stats,
        # The distributions as the API writes them (one decimal), so both show one figure.
        written=stats.model_dump(mode="json"),
        people_count=len(people),
        sources=_sources(counts),
        last_run=runs[0] if runs else None,
        flagged=await _flagged(page, people),
        histograms_json=json.dumps(charts.cohort_histograms(stats.rows)),
        emails={person.id: person.email for person in people},
    )
