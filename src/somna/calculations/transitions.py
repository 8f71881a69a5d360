"""Stage dynamics of one night: the stage transition matrix and stage shifts per hour.

``counts[i][j]`` is the number of consecutive epoch pairs going from stage ``i`` to stage
``j``, self-transitions included, as YASA's ``transition_matrix`` counts them; a pair with an
unknown epoch (``U``) on either side is left out, so no transition is invented across a gap.
``probabilities`` divides each row by its sum (each row sums to 1), and is ``None`` for a
stage that is never left (never entered, or only as the last epoch). ``stage_shifts`` counts
the pairs between two different stages; per hour of total sleep it is
``stage_shifts_per_hour``, the companion of YASA's sleep fragmentation index.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Final

STAGES: Final = ("WAKE", "LIGHT", "DEEP", "REM")
_INDEX: Final = {"W": 0, "L": 1, "D": 2, "R": 3}

Row = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Transitions:
    stages: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]  # 4 x 4, rows "from", columns "to"
    probabilities: tuple[Row | None, ...]  # each row sums to 1; None for a row without pairs


def transition_counts(hypnogram: str) -> list[list[int]]:
    """The 4 x 4 count matrix (see the module docstring)."""
    counts = [[0] * len(STAGES) for _ in STAGES]
    for a, b in pairwise(hypnogram):
        i, j = _INDEX.get(a), _INDEX.get(b)
        if i is not None and j is not None:
            counts[i][j] += 1
    return counts


def transitions(hypnogram: str) -> Transitions:
    """Counts and row probabilities of one night's hypnogram."""
    counts = transition_counts(hypnogram)
    return Transitions(
        stages=STAGES,
        counts=tuple(tuple(row) for row in counts),
        probabilities=tuple(_row_probabilities(row) for row in counts),
    )


def _row_probabilities(row: list[int]) -> Row | None:
    total = sum(row)
    if not total:
        return None
    a, b, c, d = (count / total for count in row)
    return a, b, c, d


def stage_shifts(hypnogram: str) -> int:
    """Changes between two different known stages (``U`` pairs left out)."""
    counts = transition_counts(hypnogram)
    return sum(counts[i][j] for i in range(len(STAGES)) for j in range(len(STAGES)) if i != j)


def stage_shifts_per_hour(hypnogram: str, tst_seconds: int) -> float | None:
    """Stage shifts per hour of total sleep; ``None`` without sleep."""
    if tst_seconds <= 0:
        return None
    return stage_shifts(hypnogram) / (tst_seconds / 3600)
