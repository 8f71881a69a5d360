"""Numbers Somna computes are written one way: scores and percentages to one decimal,
durations as whole seconds, each value once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.analytics.support import TODAY, night, pin_now, store
from tests.support.auth import create_organization, create_person

ONE_DECIMAL = {"score", "overall", "consistency", "sri", "risk", "measure"}


def offenders(value: Any, path: str = "", *, in_seconds: bool = False) -> list[str]:
    """Paths whose value breaks the rule its name implies; inside a ``*_seconds`` object (a
    distribution of durations) every figure is whole seconds too."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "raw":
                continue  # the provider's own payload passes through untouched
            where = f"{path}.{key}"
            seconds = in_seconds or key.endswith("_seconds")
            if seconds and item is not None and not isinstance(item, int | dict):
                found.append(where)
            one_decimal = key.endswith("_pct") or key in ONE_DECIMAL
            if one_decimal and isinstance(item, float) and round(item, 1) != item:
                found.append(where)
            found += offenders(item, where, in_seconds=seconds and isinstance(item, dict))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += offenders(item, f"{path}[{index}]")
    return found


async def test_scores_are_one_decimal_and_durations_whole_seconds(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    pin_now(app)
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    # Irregular nights of odd lengths make long fractions everywhere.
    records = [
        night("whoop", TODAY - timedelta(days=k), bed=f"2{k % 4}:{7 * k % 60:02d}",
              hours=7 + k / 7, asleep_hours=6.1 + k / 9, hypnogram="WLLDDRRLWLLR" * 40,
              efficiency_pct=91.23456)
        for k in range(12)
    ]  # fmt: skip
    await store(db_session, person, records)
    base = f"/api/v1/users/{person.id}"
    headers = org.owner.headers
    score = (await client.get(f"{base}/sleep-score", headers=headers)).json()
    assert "overall_score" not in score  # each value once: `score.overall`
    assert isinstance(score["score"]["overall"], float)
    answers = {
        "sleep-score": score,
        "weekly": (await client.get(f"{base}/reports/weekly", headers=headers)).json(),
        "monthly": (await client.get(f"{base}/trends/monthly", headers=headers)).json(),
        "burnout": (await client.get(f"{base}/burnout", headers=headers)).json(),
        "organisation statistics": (
            await client.get(f"/api/v1/organizations/{org.id}/statistics", headers=headers)
        ).json(),
    }
    sleep = (await client.get(f"{base}/sleep", headers=headers)).json()["data"][0]
    detail = (await client.get(f"{base}/sleep/{sleep['id']}", headers=headers)).json()
    answers["hypnogram statistics"] = detail["statistics"]  # the rest is the provider's
    for name, answer in answers.items():
        assert offenders(answer) == [], name
    assert detail["statistics"]["se_pct"] == round(detail["statistics"]["se_pct"], 1)
    # A provider's own value passes through as it was sent.
    assert detail["efficiency_pct"] == 91.23456


def test_the_checker_catches_what_it_is_for() -> None:
    assert offenders({"a": {"deep_seconds": 1.5, "se_pct": 80.25, "raw": {"x_pct": 1.2345}}}) == [
        ".a.deep_seconds",
        ".a.se_pct",
    ]
    assert offenders({"duration_seconds": {"n": 3, "mean": 25_000.5, "p10": 24_000}}) == [
        ".duration_seconds.mean"
    ]
