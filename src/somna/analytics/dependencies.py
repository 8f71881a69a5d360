"""Dependencies of the analytics routes: the clock, the insight generator, the grant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from somna.auth.dependencies import RequireScopes
from somna.auth.principal import Principal
from somna.calculations import InsightGenerator, RuleBasedInsights
from somna.calculations.sources import parse_sources
from somna.kit.time import utc_now
from somna.people.schemas import PROVIDER_NAMES

AnalyticsRead = Annotated[Principal, Depends(RequireScopes("analytics:read"))]


def current_time() -> datetime:
    """The instant "today" is taken from (a seam tests override to pin a date)."""
    return utc_now()


def insight_generator(request: Request) -> InsightGenerator:
    """``app.state.insight_generator`` when one is installed, else the rule-based generator.

    A language-model generator is added by setting that attribute at start-up; none is
    called by default.
    """
    generator: InsightGenerator | None = getattr(request.app.state, "insight_generator", None)
    return generator if generator is not None else RuleBasedInsights()


Now = Annotated[datetime, Depends(current_time)]
Generator = Annotated[InsightGenerator, Depends(insight_generator)]


def query_sources(
    sources: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Providers to use, in priority order, comma-separated "
            "(`asleep,whoop`); providers not named are left out. Default: the person's "
            "priority, else the organisation's.",
        ),
    ] = None,
) -> tuple[str, ...] | None:
    """The ``?sources=`` order; an unknown provider is a 422 naming it."""
    if sources is None:
        return None
    try:
        return parse_sources(sources, PROVIDER_NAMES)
    except ValueError as error:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "sources"), "msg": str(error),
              "input": sources}]
        ) from None  # fmt: skip


Sources = Annotated[tuple[str, ...] | None, Depends(query_sources)]
