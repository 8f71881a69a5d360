"""The Sleep Regularity Index against a second implementation: Phillips et al. (2017)'s
formula run literally on a day x epoch matrix, including missing epochs, and their worked
examples. Somna's ``sri_from_days`` works on segments and merges runs, so agreement here
checks the segment arithmetic, the day pairing and the missing-data rule together."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somna.calculations.nights import resolve_sleep
from somna.calculations.sri import Segment, days_from_nights, sri_from_days
from somna.calculations.stats import DAY_SECONDS
from tests.analytics.helpers import at, diary_night, staged

DAY0 = date(2026, 1, 5)
State = bool | None


def phillips_sri(matrix: list[list[State]]) -> float | None:
    """SRI = -100 + 200 / (number of valid pairs) * sum of agreements, over s[i][j] and
    s[i+1][j] for consecutive days i and every epoch j, pairs with a missing epoch left out
    (the pooled form of Phillips et al. 2017's formula)."""
    agree = valid = 0
    for today, tomorrow in pairwise(matrix):
        for a, b in zip(today, tomorrow, strict=True):
            if a is None or b is None:
                continue
            valid += 1
            agree += a == b
    return None if not valid else -100 + 200 * agree / valid


def as_days(matrix: list[list[State]]) -> dict[date, list[Segment]]:
    """The matrix as Somna's day segments: each epoch a segment of DAY_SECONDS / M."""
    days = {}
    for i, row in enumerate(matrix):
        epoch = DAY_SECONDS // len(row)
        days[DAY0 + timedelta(days=i)] = [
            (j * epoch, (j + 1) * epoch, state) for j, state in enumerate(row)
        ]
    return days


def test_phillips_worked_example() -> None:
    # Three days, four 6-h epochs: 8 pairs, 6 concordant: 200 * 0.75 - 100 = 50.
    matrix: list[list[State]] = [[True, False, False, False], [True, True, False, False],
                                 [True, False, False, False]]  # fmt: skip
    assert phillips_sri(matrix) == 50.0
    result = sri_from_days(as_days(matrix), min_day_pairs=1)
    assert result.sri == pytest.approx(50.0)
    assert result.day_pairs == 2


def test_thirty_second_worked_example_from_nights() -> None:
    # Sleep 23:00-07:00, 23:00-08:00, 23:00-07:00: 120 discordant 30-s epochs per day pair
    # of 2880: SRI = 200 * (1 - 120 / 2880) - 100 = 91.6667.
    nights = [
        diary_night(DAY0 + timedelta(days=1), "23:00", "07:00"),
        diary_night(DAY0 + timedelta(days=2), "23:00", "08:00"),
        diary_night(DAY0 + timedelta(days=3), "23:00", "07:00"),
    ]
    days = days_from_nights(resolve_sleep(nights).nights)
    result = sri_from_days(days, min_day_pairs=1)
    assert result.sri == pytest.approx(91.6667, abs=1e-4)
    # The same by the formula on the epoch matrix of the observed noon-to-noon days.
    matrix = [_epochs(segments, 2880) for segments in days.values()]
    assert phillips_sri(matrix) == pytest.approx(result.sri)


def _epochs(segments: list[Segment], m: int) -> list[State]:
    epoch = DAY_SECONDS // m
    out: list[State] = []
    for j in range(m):
        t = j * epoch
        out.append(next(state for start, end, state in segments if start <= t < end))
    return out


def test_missing_epochs_are_left_out_of_both() -> None:
    # An unknown stretch in the second night (U epochs, 02:00-03:00) is missing data: the
    # pairs touching it are not compared, they do not count as agreement or disagreement.
    good = "L" * 960  # 23:00-07:00
    gap = "L" * 360 + "U" * 120 + "L" * 480
    nights = [
        staged(at(DAY0, "23:00"), good),
        staged(at(DAY0 + timedelta(days=1), "23:00"), gap),
        staged(at(DAY0 + timedelta(days=2), "23:00"), "L" * 1080),  # nine hours, to 08:00
    ]
    days = days_from_nights(resolve_sleep(nights).nights)
    result = sri_from_days(days, min_day_pairs=1)
    matrix = [_epochs(segments, 2880) for segments in days.values()]
    assert phillips_sri(matrix) == pytest.approx(result.sri)
    # By hand: pair 1 compares 2880 - 120 epochs, all agreeing; pair 2 the same, with the
    # 120 epochs of 07:00-08:00 disagreeing: 200 * (5520 - 120) / 5520 - 100 = 95.65.
    assert result.valid_seconds == (2 * (2880 - 120)) * 30
    assert result.sri == pytest.approx(200 * (5520 - 120) / 5520 - 100)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([True, False, None]), min_size=4, max_size=48).flatmap(
        lambda day: st.integers(2, 8).map(lambda n: [list(day) for _ in range(n)])
    )
)
def test_identical_days_give_100(matrix: list[list[State]]) -> None:
    result = sri_from_days(as_days(matrix), min_day_pairs=1)
    if all(state is None for state in matrix[0]):
        assert result.sri is None  # nothing known: nothing to compare
    else:
        assert result.sri == pytest.approx(100.0)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 24).flatmap(
        lambda m: st.lists(
            st.lists(st.sampled_from([True, False, None]), min_size=m, max_size=m),
            min_size=2,
            max_size=7,
        )
    )
)
def test_segments_equal_the_formula_on_random_days(matrix: list[list[State]]) -> None:
    expected = phillips_sri(matrix)
    result = sri_from_days(as_days(matrix), min_day_pairs=1)
    if expected is None:
        assert result.sri is None
    else:
        assert result.sri == pytest.approx(expected)
