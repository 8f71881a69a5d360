"""Dependencies of the analytics routes: the clock, the insight generator, the grant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from somna.analytics.calculations import InsightGenerator, RuleBasedInsights
from somna.auth.dependencies import RequireScopes
from somna.auth.principal import Principal
from somna.kit.time import utc_now

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
