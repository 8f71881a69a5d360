"""The synthetic-physiology generator: deterministic by seed, and physiologically plausible."""

from __future__ import annotations

from datetime import date, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

import pytest

from somna.records.canonical import Stage
from somna.sandbox.history import generate
from somna.sandbox.hypnogram import as_string, count_cycles, stats
from somna.sandbox.physiology import History, Sleep, make_profile

END = date(2026, 11, 20)


@pytest.fixture(scope="module")
def cohort() -> list[History]:
    """24 people x 90 days, the size the demo uses."""
    return [generate(make_profile(5, i), seed=5, end_date=END, days=90) for i in range(24)]


def _nights(cohort: list[History]) -> list[Sleep]:
    return [s for h in cohort for s in h.sleeps if not s.nap]


def test_same_seed_same_world_other_seed_other_world() -> None:
    a = generate(make_profile(9, 2), seed=9, end_date=END, days=20)
    b = generate(make_profile(9, 2), seed=9, end_date=END, days=20)
    c = generate(make_profile(10, 2), seed=10, end_date=END, days=20)
    assert [(s.id, s.start, s.hypnogram) for s in a.sleeps] == [
        (s.id, s.start, s.hypnogram) for s in b.sleeps
    ]
    assert [r.hrv_ms for r in a.recoveries] == [r.hrv_ms for r in b.recoveries]
    assert [s.id for s in a.sleeps] != [s.id for s in c.sleeps]


def test_cohort_size_and_shape(cohort: list[History]) -> None:
    assert len(cohort) == 24
    for history in cohort:
        nights = [s for s in history.sleeps if not s.nap]
        assert len(nights) == 90
        assert len(history.recoveries) == 90
        assert len(history.cycles) == 90
        assert history.cycles[-1].end is None  # the current cycle is open
        assert all(c.end == n.start for c, n in zip(history.cycles, nights[1:], strict=False))
        assert nights[-1].end.astimezone(ZoneInfo(history.profile.zone)).date() == END
    assert len({h.profile.user_id for h in cohort}) == 24


def test_deep_sleep_early_rem_late(cohort: list[History]) -> None:
    def share(stage: Stage, third: int) -> float:
        values = []
        for night in _nights(cohort):
            text = night.hypnogram
            part = text[third * len(text) // 3 : (third + 1) * len(text) // 3]
            values.append(part.count(stage.value) / len(part))
        return fmean(values)

    assert share(Stage.DEEP, 0) > 2 * share(Stage.DEEP, 2)
    assert share(Stage.REM, 2) > 2 * share(Stage.REM, 0)


def test_architecture_in_adult_ranges(cohort: list[History]) -> None:
    nights = _nights(cohort)
    asleep = [n.stats.asleep for n in nights]
    assert 6.5 * 3600 < fmean(asleep) < 8.5 * 3600
    deep = fmean(n.stats.deep / n.stats.asleep for n in nights)
    rem = fmean(n.stats.rem / n.stats.asleep for n in nights)
    assert 0.10 < deep < 0.25
    assert 0.17 < rem < 0.28
    # Cycles of about 90 minutes: cycle count tracks time asleep.
    minutes_per_cycle = fmean(
        n.stats.asleep / 60 / n.stats.cycles for n in nights if n.stats.cycles
    )
    assert 75 < minutes_per_cycle < 110
    assert fmean(n.stats.wake_bouts for n in nights) >= 1  # brief awakenings happen
    assert fmean(n.stats.latency or 0 for n in nights) < 30 * 60


def test_weekends_are_later(cohort: list[History]) -> None:
    def wake_minutes(night: Sleep, zone: ZoneInfo) -> float:
        local = night.end.astimezone(zone)
        return local.hour * 60 + local.minute

    later = 0
    for history in cohort:
        zone = ZoneInfo(history.profile.zone)
        nights = [s for s in history.sleeps if not s.nap]
        work = [wake_minutes(n, zone) for n in nights if n.end.astimezone(zone).weekday() < 5]
        free = [wake_minutes(n, zone) for n in nights if n.end.astimezone(zone).weekday() >= 5]
        later += fmean(free) > fmean(work)
    assert later >= 20


def test_some_people_drift_into_strain(cohort: list[History]) -> None:
    drifting = [h for h in cohort if h.profile.strain_onset_day is not None]
    steady = [h for h in cohort if h.profile.strain_onset_day is None]
    assert drifting
    assert steady
    for history in drifting:
        nights = [s for s in history.sleeps if not s.nap]
        hrv_before = fmean(r.hrv_ms for r in history.recoveries[:14])
        hrv_after = fmean(r.hrv_ms for r in history.recoveries[-14:])
        rhr_before = fmean(r.rhr for r in history.recoveries[:14])
        rhr_after = fmean(r.rhr for r in history.recoveries[-14:])
        sleep_before = fmean(n.stats.asleep for n in nights[:14])
        sleep_after = fmean(n.stats.asleep for n in nights[-14:])
        assert hrv_after < hrv_before
        assert rhr_after > rhr_before + 2
        assert sleep_after < sleep_before - 20 * 60


def test_naps_unscored_and_late_scored_records_exist(cohort: list[History]) -> None:
    naps = [s for h in cohort for s in h.sleeps if s.nap]
    assert naps
    assert all(n.end - n.start < timedelta(hours=1) for n in naps)
    nights = _nights(cohort)
    assert any(n.scored_at is None for n in nights)
    assert any(n.scored_at and n.scored_at - n.end > timedelta(hours=6) for n in nights)


def test_hypnogram_helpers() -> None:
    runs = [
        (Stage.WAKE, 20),
        (Stage.LIGHT, 120),
        (Stage.WAKE, 10),
        (Stage.DEEP, 60),
        (Stage.REM, 40),
        (Stage.LIGHT, 20),
        (Stage.WAKE, 10),
    ]
    night = stats(runs)
    # The worked example of the research notes (YASA and pysleep agree on these).
    assert night.in_bed == 140 * 60
    assert night.asleep == 120 * 60
    assert night.latency == 10 * 60
    assert night.wake_after_onset == 5 * 60
    assert (night.wake_bouts, night.cycles) == (1, 1)
    assert as_string(runs).startswith("W" * 20 + "L")
    assert count_cycles([(Stage.REM, 4)]) == 0
