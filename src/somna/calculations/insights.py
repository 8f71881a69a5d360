"""Insights: short findings, each with the numbers and the threshold behind it.

A generator is anything with a ``name`` and ``generate(context)`` (``InsightGenerator``), so a
language-model generator can be added beside the rules later; none is called by default.
``RuleBasedInsights`` applies published cut-offs (Ohayon et al. 2017 for latency, WASO and
efficiency; AASM/SRS for duration; Huang et al. 2020 for timing spread) to a period's figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, Protocol

from pydantic import PlainSerializer

from somna.calculations.burnout import BurnoutResult
from somna.calculations.metrics import night_metrics
from somna.calculations.nights import Night
from somna.calculations.regularity import Regularity
from somna.calculations.stats import mean
from somna.kit.numbers import rounded_measures

Severity = Literal["positive", "info", "warning"]
Evidence = Annotated[
    dict[str, float | int | str | None],
    PlainSerializer(rounded_measures, return_type=dict[str, Any]),
]
MIN_NIGHTS = 3


@dataclass(frozen=True, slots=True)
class Insight:
    kind: str
    severity: Severity
    title: str
    body: str
    evidence: Evidence = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InsightContext:
    """A period's figures, as the weekly report and the insights endpoint compute them."""

    start_date: date
    end_date: date
    nights: int
    mean_duration_seconds: float | None = None
    mean_efficiency_pct: float | None = None
    mean_latency_seconds: float | None = None
    mean_waso_seconds: float | None = None
    mean_waso_count: float | None = None
    mean_deep_ratio: float | None = None  # deep sleep / sleep period, Asleep's ratio
    goal_hours: float = 8.0
    regularity: Regularity | None = None
    burnout: BurnoutResult | None = None


class InsightGenerator(Protocol):
    name: str

    def generate(self, context: InsightContext) -> list[Insight]: ...


def insight_context(
    nights: Sequence[Night],
    start: date,
    end: date,
    *,
    goal_hours: float = 8.0,
    regularity: Regularity | None = None,
    burnout: BurnoutResult | None = None,
) -> InsightContext:
    """The figures of the slept nights in a period."""
    metrics = [m for n in nights if (m := night_metrics(n.record)).slept]
    return InsightContext(
        start_date=start,
        end_date=end,
        nights=len(metrics),
        mean_duration_seconds=mean(m.tst_seconds for m in metrics),
        mean_efficiency_pct=mean(m.efficiency_pct for m in metrics),
        mean_latency_seconds=mean(m.latency_seconds for m in metrics),
        mean_waso_seconds=mean(m.waso_seconds for m in metrics),
        mean_waso_count=mean(m.waso_count for m in metrics),
        mean_deep_ratio=mean(
            m.deep_seconds / m.spt_seconds
            for m in metrics
            if m.deep_seconds is not None and m.spt_seconds
        ),
        goal_hours=goal_hours,
        regularity=regularity,
        burnout=burnout,
    )


Rule = Callable[[InsightContext], Insight | None]


class RuleBasedInsights:
    """The default generator: one rule per finding, in a fixed order."""

    name = "rules-v1"

    def __init__(self, rules: Sequence[Rule] | None = None) -> None:
        self.rules = tuple(rules if rules is not None else DEFAULT_RULES)

    def generate(self, context: InsightContext) -> list[Insight]:
        if context.nights < MIN_NIGHTS:
            return [_too_few(context)]
        found = [i for rule in self.rules if (i := rule(context)) is not None]
        return found or [_all_good(context)]


def _too_few(c: InsightContext) -> Insight:
    return Insight(
        "not_enough_data",
        "info",
        "Not enough nights yet",
        f"{c.nights} night(s) recorded in this period; insights need at least {MIN_NIGHTS}.",
        {"nights": c.nights, "required": MIN_NIGHTS},
    )


def _all_good(c: InsightContext) -> Insight:
    return Insight(
        "on_track",
        "positive",
        "Nothing to improve this period",
        "Every figure that was recorded is within the recommended range.",
        {
            "nights": c.nights,
            "mean_sleep_hours": _hours(c.mean_duration_seconds),
            "mean_efficiency_pct": c.mean_efficiency_pct,
        },
    )


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def short_sleep(c: InsightContext) -> Insight | None:
    if c.mean_duration_seconds is None or c.mean_duration_seconds >= 7 * 3600:
        return None
    hours = c.mean_duration_seconds / 3600
    return Insight(
        "short_sleep",
        "warning",
        "You are sleeping less than 7 hours",
        f"You averaged {hours:.1f} h of sleep; adults are advised to sleep at least 7 h a "
        f"night regularly, and your goal is {c.goal_hours:g} h.",
        {
            "mean_sleep_hours": hours,
            "threshold_hours": 7.0,
            "goal_hours": c.goal_hours,
            "nights": c.nights,
            "source": "AASM/SRS consensus (Watson et al. 2015)",
        },
    )


def low_efficiency(c: InsightContext) -> Insight | None:
    if c.mean_efficiency_pct is None or c.mean_efficiency_pct >= 85:
        return None
    return Insight(
        "low_efficiency",
        "warning",
        "A lot of your time in bed is spent awake",
        f"Your sleep efficiency averaged {c.mean_efficiency_pct:.0f} %; 85 % or more is "
        "considered good. Going to bed only when sleepy often helps.",
        {
            "mean_efficiency_pct": c.mean_efficiency_pct,
            "threshold_pct": 85.0,
            "nights": c.nights,
            "source": "NSF sleep quality (Ohayon et al. 2017)",
        },
    )


def long_latency(c: InsightContext) -> Insight | None:
    if c.mean_latency_seconds is None or c.mean_latency_seconds <= 30 * 60:
        return None
    minutes = c.mean_latency_seconds / 60
    return Insight(
        "long_sleep_latency",
        "warning",
        "Falling asleep takes a while",
        f"It took you {minutes:.0f} min on average to fall asleep; up to 30 min is typical. "
        "A wind-down routine without screens may help.",
        {
            "mean_latency_minutes": minutes,
            "threshold_minutes": 30.0,
            "nights": c.nights,
            "source": "NSF sleep quality (Ohayon et al. 2017)",
        },
    )


def long_waso(c: InsightContext) -> Insight | None:
    if c.mean_waso_seconds is None or c.mean_waso_seconds <= 20 * 60:
        return None
    minutes = c.mean_waso_seconds / 60
    return Insight(
        "wake_after_sleep_onset",
        "warning",
        "You spend time awake during the night",
        f"You were awake {minutes:.0f} min per night after first falling asleep; 20 min or "
        "less is considered good.",
        {
            "mean_waso_minutes": minutes,
            "threshold_minutes": 20.0,
            "mean_waso_count": c.mean_waso_count,
            "nights": c.nights,
            "source": "NSF sleep quality (Ohayon et al. 2017)",
        },
    )


def frequent_awakenings(c: InsightContext) -> Insight | None:
    if c.mean_waso_count is None or c.mean_waso_count <= 3:
        return None
    return Insight(
        "frequent_awakenings",
        "info",
        "You wake up several times a night",
        f"You had {c.mean_waso_count:.1f} awakenings per night on average. A cool, dark, quiet "
        "room and less screen time before bed can reduce them.",
        {
            "mean_waso_count": c.mean_waso_count,
            "threshold": 3.0,
            "nights": c.nights,
            "source": "product threshold (the 000 seed)",
        },
    )


def low_deep_sleep(c: InsightContext) -> Insight | None:
    if c.mean_deep_ratio is None or c.mean_deep_ratio >= 0.15:
        return None
    return Insight(
        "low_deep_sleep",
        "info",
        "Less deep sleep than usual targets",
        f"Deep sleep was {100 * c.mean_deep_ratio:.0f} % of your sleep period. Stage shares "
        "vary a lot between people and devices, so treat this as a hint, not a problem.",
        {
            "mean_deep_ratio": c.mean_deep_ratio,
            "threshold": 0.15,
            "nights": c.nights,
            "source": "product threshold (the 000 seed); no consensus (Ohayon et al. 2017)",
        },
    )


def irregular_schedule(c: InsightContext) -> Insight | None:
    reg = c.regularity
    if reg is None or reg.consistency is None or reg.consistency >= 200 / 3:
        return None
    return Insight(
        "irregular_schedule",
        "warning" if reg.consistency < 100 / 3 else "info",
        "Your sleep schedule varies from night to night",
        "Going to bed and getting up at similar times every day, weekends included, makes "
        "sleep more regular.",
        {
            "consistency": reg.consistency,
            "method": reg.method,
            "sri": reg.sri,
            "midpoint_sd_minutes": reg.midpoint_sd_minutes,
            "threshold": 200 / 3,
            "source": "SRI (Phillips et al. 2017); timing SD bands (Huang et al. 2020)",
        },
    )


def social_jetlag(c: InsightContext) -> Insight | None:
    reg = c.regularity
    if reg is None or reg.social_jetlag_minutes is None or reg.social_jetlag_minutes < 60:
        return None
    hours = reg.social_jetlag_minutes / 60
    return Insight(
        "social_jetlag",
        "warning" if hours >= 2 else "info",
        "Your weekend sleep is shifted",
        f"The middle of your sleep moves by {hours:.1f} h between workdays and free days.",
        {
            "social_jetlag_minutes": reg.social_jetlag_minutes,
            "threshold_minutes": 60.0,
            "source": "Wittmann et al. 2006",
        },
    )


def burnout_signal(c: InsightContext) -> Insight | None:
    b = c.burnout
    if b is None or b.level not in ("moderate", "high"):
        return None
    drivers = [f.name for f in b.factors if f.points]
    return Insight(
        "wellbeing_signal",
        "warning" if b.level == "high" else "info",
        "Your recovery signals are lower than usual",
        f"{_worse_than_usual(drivers)} {b.disclaimer}",
        {
            "risk": b.risk,
            "level": b.level,
            "drivers": ", ".join(drivers),
            "model_version": b.model_version,
        },
    )


# What each burnout factor is called when speaking to the person.
FACTOR_WORDS = {
    "hrv": "HRV",
    "resting_hr": "resting heart rate",
    "sleep_debt": "sleep debt",
    "regularity": "sleep regularity",
    "mood": "mood",
}


def _worse_than_usual(factor_names: Sequence[str]) -> str:
    """ "Your HRV and sleep debt are worse than your usual." for the factors that scored."""
    words = [FACTOR_WORDS.get(name, name.replace("_", " ")) for name in factor_names]
    if not words:
        return "Your figures together are worse than your usual."
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
    verb = "is" if len(words) == 1 else "are"
    return f"Your {listed} {verb} worse than your usual."


DEFAULT_RULES: tuple[Rule, ...] = (
    short_sleep,
    low_efficiency,
    long_latency,
    long_waso,
    frequent_awakenings,
    low_deep_sleep,
    irregular_schedule,
    social_jetlag,
    burnout_signal,
)
