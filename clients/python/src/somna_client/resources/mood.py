"""Mood ratings: a person's 1-5 score for a day."""

from __future__ import annotations

from datetime import date, datetime

from somna_client._operations import (
    C,
    PageSpec,
    Resource,
    Spec,
    body,
    model,
    nothing,
    operation,
    paged,
    person_path,
    query,
    window,
)
from somna_client.models import MoodRatingRead


@paged("GET", "/users/{user_id}/mood-ratings")
def _list(
    user_id: str,
    *,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> PageSpec[MoodRatingRead]:
    """A person's mood ratings in a window of local dates, newest first."""
    params = {**window(start_date, end_date), **query(limit=limit, cursor=cursor)}
    return PageSpec(
        Spec("GET", person_path(user_id, "/mood-ratings"), dict, params=params),
        model(MoodRatingRead),
    )


@operation("POST", "/users/{user_id}/mood-ratings")
def _create(
    user_id: str,
    score: int,
    *,
    note: str | None = None,
    local_date: date | str | None = None,
    recorded_at: datetime | str | None = None,
    allow_multiple: bool | None = None,
) -> Spec[MoodRatingRead]:
    """Record a mood rating (1 to 5)."""
    payload = body(
        score=score,
        note=note,
        local_date=local_date,
        recorded_at=recorded_at,
        allow_multiple=allow_multiple,
    )
    path = person_path(user_id, "/mood-ratings")
    return Spec("POST", path, model(MoodRatingRead), json=payload, creates=True)


@operation("DELETE", "/users/{user_id}/mood-ratings/{rating_id}")
def _delete(user_id: str, rating_id: str) -> Spec[None]:
    """Delete one mood rating."""
    return Spec("DELETE", person_path(user_id, "/mood-ratings/{id}", id=rating_id), nothing)


class MoodRatings(Resource[C]):
    list = _list
    create = _create
    delete = _delete
