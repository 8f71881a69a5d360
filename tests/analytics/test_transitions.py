"""Stage transitions against YASA's ``Hypnogram.transition_matrix`` (values computed once with
YASA 0.8.1 by ``fixtures/make_yasa_transitions.py`` and stored), and their properties."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from somna.calculations.hypnogram import hypnogram_statistics
from somna.calculations.transitions import (
    STAGES,
    stage_shifts,
    stage_shifts_per_hour,
    transitions,
)

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "yasa_transitions.json").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_counts_equal_yasas(case: dict[str, Any]) -> None:
    ours = transitions(case["hypnogram"])
    reference = case["counts"]
    # YASA counts every stage present, UNS included; leaving UNS's row and column out gives
    # exactly the pairs of two known epochs, which is what Somna counts.
    expected = [[reference.get(a, {}).get(b, 0) for b in STAGES] for a in STAGES]
    assert [list(row) for row in ours.counts] == expected


@pytest.mark.parametrize(
    "case", [c for c in CASES if "U" not in c["hypnogram"]], ids=lambda c: c["name"]
)
def test_probabilities_equal_yasas(case: dict[str, Any]) -> None:
    ours = transitions(case["hypnogram"])
    for stage, row in zip(STAGES, ours.probabilities, strict=True):
        reference = case["probabilities"].get(stage)
        if reference is None or all(v is None for v in reference.values()):
            assert row is None  # never entered, or only as the last epoch
            continue
        assert row is not None
        assert list(row) == pytest.approx([reference.get(b, 0.0) for b in STAGES])


def test_a_stage_entered_only_at_the_end_has_no_row() -> None:
    t = transitions("WWLLLDDDLLR")
    assert t.probabilities[3] is None
    assert t.probabilities[1] == pytest.approx((0.0, 0.6, 0.2, 0.2))


def test_stage_shifts_per_hour_worked_example() -> None:
    # W->L, L->D, D->L, L->R: 4 shifts; 9 sleep epochs of 30 s = 4.5 min of sleep.
    hypnogram = "WWLLLDDDLLR"
    assert stage_shifts(hypnogram) == 4
    assert stage_shifts_per_hour(hypnogram, 9 * 30) == pytest.approx(4 / (4.5 / 60))
    stats = hypnogram_statistics(hypnogram, 30)
    assert stats.stage_shifts_per_hour == pytest.approx(4 / (4.5 / 60))
    # Unknown epochs are left out: L U R is no shift.
    assert stage_shifts("LLURR") == 0


def test_no_sleep_and_empty() -> None:
    assert stage_shifts_per_hour("WWWW", 0) is None
    assert hypnogram_statistics("WWWW", 30).stage_shifts_per_hour is None
    empty = transitions("")
    assert all(row is None for row in empty.probabilities)
    assert sum(map(sum, empty.counts)) == 0


@given(st.text(alphabet="WLDRU", max_size=400))
def test_each_row_of_probabilities_sums_to_one(hypnogram: str) -> None:
    t = transitions(hypnogram)
    for counts, row in zip(t.counts, t.probabilities, strict=True):
        if sum(counts) == 0:
            assert row is None
        else:
            assert row is not None
            assert sum(row) == pytest.approx(1.0)
            assert all(0.0 <= p <= 1.0 for p in row)
    known_pairs = sum(1 for a, b in pairwise(hypnogram) if "U" not in (a, b))
    assert sum(map(sum, t.counts)) == known_pairs
