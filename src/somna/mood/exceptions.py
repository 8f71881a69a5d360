"""Errors of the mood package."""

from __future__ import annotations

from somna.errors import Conflict, NotFound, Unprocessable


class MoodRatingExists(Conflict):
    """The person already rated this date and the request did not allow another rating."""

    error_code = "mood_rating_exists"


class MoodDateInFuture(Unprocessable):
    kind = "invalid_local_date"


class MoodRatingNotFound(NotFound):
    error_code = "mood_rating_not_found"
