"""A person's insights, cached per data version (``AnalyticsRepository.data_version``)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.analytics.person_context import (
    PersonContext,
    burnout_inputs,
    recovery_sources,
    sleep_sources,
)
from somna.analytics.repository import AnalyticsRepository
from somna.analytics.schemas import (
    InsightItem,
    InsightsResponse,
)
from somna.models import Insight

INSIGHT_TTL = timedelta(hours=6)


async def insights(
    session: AsyncSession, ctx: PersonContext, days: int, generator: calc.InsightGenerator
) -> InsightsResponse:
    """Insights over the last ``days`` local dates, served from the cache while the person's
    data, the date and the generator are unchanged and the batch has not expired."""
    repository = AnalyticsRepository(session)
    version = await repository.data_version(
        ctx.person.id, ctx.today, days, ctx.zone_name, generator.name, _priority_key(ctx)
    )
    cached = await repository.cached_insights(ctx.person.id, generator.name, version, ctx.now)
    if cached:
        return _insights_response(ctx, cached, cached=True)
    first = ctx.today - timedelta(days=days - 1)
    inputs = await burnout_inputs(session, ctx, first, ctx.today)
    nights = [n for n in inputs.nights if first <= n.local_date <= ctx.today]
    naps = [n for n in inputs.naps if first <= n.local_date <= ctx.today]
    context = calc.insight_context(
        nights,
        first,
        ctx.today,
        goal_hours=ctx.goal_hours,
        regularity=calc.regularity(nights, naps, workdays=ctx.workdays),
        burnout=calc.burnout_risk(ctx.today, inputs),
    )
    found = generator.generate(context)
    meta = {
        "start_date": first.isoformat(),
        "end_date": ctx.today.isoformat(),
        "days": days,
        "sources_used": sorted({n.record.provider for n in (*nights, *naps)}),
        "sources": sleep_sources(ctx, (*nights, *naps))
        | recovery_sources(ctx, calc.pick_recovery(inputs.recoveries, ctx.sources).values()),
    }
    rows = [
        Insight(
            id=uuid.uuid4(),
            person_id=ctx.person.id,
            kind=item.kind,
            severity=item.severity,
            title=item.title[:200],
            body=item.body,
            evidence=dict(item.evidence),
            position=position,
            context=meta,
            generator=generator.name,
            data_version=version,
            generated_at=ctx.now,
            expires_at=ctx.now + INSIGHT_TTL,
        )
        for position, item in enumerate(found)
    ]
    await repository.replace_insights(ctx.person.id, rows)
    return _insights_response(ctx, rows, cached=False, generator=generator.name, version=version)


def _priority_key(ctx: PersonContext) -> str:
    """The source priority as part of the cache key: a query's ``sources`` changes the answer."""
    only = sorted(ctx.sources.only) if ctx.sources.only is not None else None
    return repr((sorted(ctx.sources.orders.items()), only))


def _insights_response(
    ctx: PersonContext,
    rows: list[Insight],
    *,
    cached: bool,
    generator: str | None = None,
    version: str | None = None,
) -> InsightsResponse:
    first = rows[0] if rows else None
    meta: dict[str, Any] = first.context if first is not None else {}
    return InsightsResponse(
        user_id=ctx.person.id,
        timezone=ctx.zone_name,
        start_date=meta.get("start_date"),
        end_date=meta.get("end_date"),
        generator=first.generator if first is not None else generator or "",
        data_version=first.data_version if first is not None else version,
        generated_at=first.generated_at if first is not None else ctx.now,
        expires_at=first.expires_at if first is not None else ctx.now,
        cached=cached,
        sources_used=list(meta.get("sources_used", [])),
        sources=dict(meta.get("sources", {})),
        insights=[
            InsightItem(
                kind=row.kind,
                severity=row.severity,
                title=row.title,
                body=row.body,
                evidence=row.evidence,
            )
            for row in rows
        ],
    )
