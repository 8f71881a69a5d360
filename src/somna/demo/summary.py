"""The per-person summary the demo ends with, read through the analytics API."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.table import Table

from somna.demo.cast import DemoPerson
from somna.demo.enroll import API, DemoClient, api_error

MAX_ANALYTICS_DAYS = 100


@dataclass(frozen=True)
class PersonSummary:
    person: DemoPerson
    user_id: uuid.UUID
    nights: int
    mean_sleep_seconds: float | None
    efficiency_pct: float | None
    score: float | None
    burnout_level: str
    burnout_risk: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "user_id": str(self.user_id),
            "email": self.person.email,
            "name": self.person.name,
            "provider": self.person.provider,
            "drifts_into_strain": self.person.drifts_into_strain,
            "nights": self.nights,
            "mean_sleep_seconds": self.mean_sleep_seconds,
            "efficiency_pct": self.efficiency_pct,
            "sleep_score": self.score,
            "burnout_level": self.burnout_level,
            "burnout_risk": self.burnout_risk,
        }


async def summarise(
    client: DemoClient, people: list[DemoPerson], ids: dict[int, uuid.UUID], days: int
) -> list[PersonSummary]:
    """Nights, mean sleep and score over the synced days (at most 100), and today's burnout."""
    window = max(1, min(days, MAX_ANALYTICS_DAYS))
    response = await client.http.post(
        f"{API}/cohorts/analysis",
        json={"user_ids": [str(ids[p.index]) for p in people], "days": window},
    )
    if response.status_code != 200:
        raise api_error("reading the cohort statistics", response)
    rows = {uuid.UUID(row["user_id"]): row for row in response.json()["rows"]}

    async def burnout(user_id: uuid.UUID) -> dict[str, Any]:
        answer = await client.http.get(f"{API}/users/{user_id}/burnout", params={"history_days": 0})
        if answer.status_code != 200:
            raise api_error("reading a burnout signal", answer)
        body: dict[str, Any] = answer.json()
        return body

    signals = await asyncio.gather(*(burnout(ids[p.index]) for p in people))
    summaries = []
    for person, signal in zip(people, signals, strict=True):
        row = rows.get(ids[person.index], {})
        summaries.append(
            PersonSummary(
                person=person,
                user_id=ids[person.index],
                nights=int(row.get("nights") or 0),
                mean_sleep_seconds=row.get("mean_duration_seconds"),
                efficiency_pct=row.get("mean_efficiency_pct"),
                score=row.get("score"),
                burnout_level=str(signal["level"]),
                burnout_risk=signal.get("risk"),
            )
        )
    return summaries


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def _number(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.0f}{unit}"


_LEVEL_STYLE = {"low": "green", "moderate": "yellow", "high": "bold red"}


def people_table(summaries: list[PersonSummary], days: int) -> Table:
    """Fits 80 columns with names and levels whole (emails: `--json` or the API)."""
    window = min(days, MAX_ANALYTICS_DAYS)
    caption = (
        f"Over the last {window} days; * drifts into strain. Burnout needs heart-rate "
        "variability and resting heart rate, which Asleep does not record."
    )
    table = Table(title="The demo's people", caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("person", no_wrap=True)
    table.add_column("provider", no_wrap=True)
    table.add_column("nights", justify="right", no_wrap=True)
    table.add_column("sleep", justify="right", no_wrap=True)
    table.add_column("eff.", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("burnout", no_wrap=True)
    for item in summaries:
        style = _LEVEL_STYLE.get(item.burnout_level, "dim")
        level = item.burnout_level.replace("_", " ")
        if item.burnout_risk is not None:
            level = f"{level} ({item.burnout_risk:.0f})"
        strain = " *" if item.person.drifts_into_strain else ""
        table.add_row(
            f"{item.person.name}{strain}",
            item.person.provider,
            str(item.nights),
            _hours(item.mean_sleep_seconds),
            _number(item.efficiency_pct, "%"),
            _number(item.score),
            f"[{style}]{level}[/]",
        )
    return table
