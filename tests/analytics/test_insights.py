"""Rule-based insights with their evidence, behind a generator protocol."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from somna.calculations.burnout import BurnoutResult, Factor
from somna.calculations.insights import (
    Insight,
    InsightContext,
    InsightGenerator,
    RuleBasedInsights,
    insight_context,
)
from somna.calculations.nights import resolve_sleep
from somna.calculations.regularity import regularity
from tests.analytics.helpers import at, diary_night, staged

START = date(2026, 9, 7)
END = START + timedelta(days=6)


def context(**figures: Any) -> InsightContext:
    return replace(InsightContext(START, END, nights=7), **figures)


def kinds(found: list[Insight]) -> list[str]:
    return [i.kind for i in found]


def test_good_sleep_gives_one_positive_insight() -> None:
    found = RuleBasedInsights().generate(
        context(mean_duration_seconds=8 * 3600, mean_efficiency_pct=92.0)
    )
    assert kinds(found) == ["on_track"]
    assert found[0].severity == "positive"
    assert found[0].evidence["mean_sleep_hours"] == 8.0


def test_each_rule_carries_its_numbers_and_threshold() -> None:
    found = RuleBasedInsights().generate(
        context(
            mean_duration_seconds=6 * 3600,
            mean_efficiency_pct=78.0,
            mean_latency_seconds=45 * 60,
            mean_waso_seconds=35 * 60,
            mean_waso_count=4.5,
            mean_deep_ratio=0.1,
        )
    )
    assert kinds(found) == [
        "short_sleep",
        "low_efficiency",
        "long_sleep_latency",
        "wake_after_sleep_onset",
        "frequent_awakenings",
        "low_deep_sleep",
    ]
    by_kind = {i.kind: i for i in found}
    assert by_kind["short_sleep"].evidence["mean_sleep_hours"] == 6.0
    assert by_kind["short_sleep"].evidence["threshold_hours"] == 7.0
    assert by_kind["low_efficiency"].evidence["threshold_pct"] == 85.0
    assert by_kind["long_sleep_latency"].evidence["mean_latency_minutes"] == 45.0
    assert by_kind["low_deep_sleep"].severity == "info"
    assert all(i.evidence.get("source") for i in found)


def test_too_few_nights_says_so() -> None:
    found = RuleBasedInsights().generate(context(nights=2, mean_duration_seconds=4 * 3600))
    assert kinds(found) == ["not_enough_data"]
    assert found[0].evidence == {"nights": 2, "required": 3}


def test_irregular_schedule_from_real_nights() -> None:
    # Alternating 22:00-06:00 and 04:00-12:00: half of each day disagrees with the next.
    times = [("22:00", "06:00") if i % 2 else ("04:00", "12:00") for i in range(7)]
    nights = resolve_sleep(
        [diary_night(START + timedelta(days=i), bed, wake) for i, (bed, wake) in enumerate(times)]
    ).nights
    reg = regularity(nights)
    assert reg.sri == pytest.approx(0.0, abs=1e-6)
    found = RuleBasedInsights().generate(insight_context(nights, START, END, regularity=reg))
    irregular = next(i for i in found if i.kind == "irregular_schedule")
    assert irregular.severity == "warning"
    assert irregular.evidence["method"] == "sri"
    assert irregular.evidence["consistency"] == reg.consistency


def test_social_jetlag_from_real_nights() -> None:
    # SRI tolerates a late weekend (SRI stays high), social jetlag does not.
    times = [("02:30", "10:30") if i >= 5 else ("23:00", "07:00") for i in range(7)]
    nights = resolve_sleep(
        [diary_night(START + timedelta(days=i), bed, wake) for i, (bed, wake) in enumerate(times)]
    ).nights
    reg = regularity(nights)
    found = RuleBasedInsights().generate(insight_context(nights, START, END, regularity=reg))
    jetlag = next(i for i in found if i.kind == "social_jetlag")
    assert jetlag.evidence["social_jetlag_minutes"] == pytest.approx(210.0)
    assert jetlag.severity == "warning"


def test_burnout_signal_names_its_drivers_and_the_disclaimer() -> None:
    burnout = BurnoutResult(
        END, 50.0, "high", (Factor("hrv", "ln_ms", points=2), Factor("mood", "1-10", points=0)), ()
    )
    found = RuleBasedInsights().generate(context(mean_duration_seconds=8 * 3600, burnout=burnout))
    signal = next(i for i in found if i.kind == "wellbeing_signal")
    assert signal.evidence["drivers"] == "hrv"
    assert "not a medical" in signal.body
    assert signal.body.startswith("Your HRV is worse than your usual.")


def test_burnout_signal_speaks_of_its_drivers_in_words() -> None:
    factors = (
        Factor("hrv", "ln_ms", points=1),
        Factor("resting_hr", "bpm", points=0),
        Factor("sleep_debt", "hours", points=2),
        Factor("regularity", "0-100", points=1),
    )
    burnout = BurnoutResult(END, 50.0, "high", factors, ())
    found = RuleBasedInsights().generate(context(mean_duration_seconds=8 * 3600, burnout=burnout))
    signal = next(i for i in found if i.kind == "wellbeing_signal")
    assert signal.body.startswith(
        "Your HRV, sleep debt and sleep regularity are worse than your usual."
    )
    for internal in ("hrv", "sleep_debt", "resting_hr"):
        assert internal not in signal.body


def test_context_from_nights_leaves_out_sessions_without_sleep() -> None:
    nights = resolve_sleep(
        [
            diary_night(START, "23:00", "06:00"),
            staged(at(START + timedelta(days=1), "01:00"), "W" * 60),
        ]
    ).nights
    c = insight_context(nights, START, END, goal_hours=9)
    assert c.nights == 1
    assert c.mean_duration_seconds == 7 * 3600
    assert c.mean_deep_ratio == 0.0
    assert c.goal_hours == 9


class CannedGenerator:
    """Stands in for a language-model generator: anything with name and generate()."""

    name = "canned"

    def generate(self, context: InsightContext) -> list[Insight]:
        return [Insight("canned", "info", "Hello", f"{context.nights} nights")]


def test_any_object_with_the_protocol_is_a_generator() -> None:
    generators: list[InsightGenerator] = [RuleBasedInsights(), CannedGenerator()]
    assert [g.name for g in generators] == ["rules-v1", "canned"]
    assert generators[1].generate(context())[0].body == "7 nights"


def test_rules_can_be_chosen() -> None:
    only_short = RuleBasedInsights(rules=[])
    assert kinds(only_short.generate(context(mean_duration_seconds=3 * 3600))) == ["on_track"]
