"""The sections every person archive holds: the profile, every collection, mood, scores,
insights, connections (without tokens), sync runs, member accounts (without passwords) and the
outgoing-webhook events about the person. The audit trail is added by ``somna.audit.archive``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import (
    Account,
    BurnoutScore,
    Connection,
    Insight,
    MoodRating,
    OutgoingEvent,
    Person,
    SyncRun,
    UserPreferences,
)
from somna.privacy.archive import ArchiveRows, archive_section
from somna.privacy.repository import ArchiveRepository
from somna.records.repository import COLLECTION_MODELS

# Secrets are never part of an archive: they are Somna's, not the person's data.
CONNECTION_SECRETS = frozenset(
    {"access_token_encrypted", "refresh_token_encrypted", "refresh_claimed_by"}
)
ACCOUNT_SECRETS = frozenset({"password_hash"})
# File names of the collections, as in the record exports.
COLLECTION_SECTIONS = {
    "sleep": ("sleep_sessions", "start_at"),
    "recovery": ("recovery", "recorded_at"),
    "cycles": ("cycles", "start_at"),
    "workouts": ("workouts", "start_at"),
    "body_measurements": ("body_measurements", "measured_at"),
}


@archive_section("person")
async def person(session: AsyncSession, who: Person) -> ArchiveRows:
    """The profile, with the preferences (``null`` when never set) inside it."""
    repository = ArchiveRepository(session)
    rows = await repository.rows(Person, who.id, person_column="id")
    preferences = await repository.rows(UserPreferences, who.id, order_by="person_id")
    for row in rows:
        row["preferences"] = preferences[0] if preferences else None
    return rows


def _collection(collection: str, order_by: str) -> Any:
    async def reader(session: AsyncSession, who: Person) -> ArchiveRows:
        model = COLLECTION_MODELS[collection]
        return await ArchiveRepository(session).rows(model, who.id, order_by=order_by)

    return reader


for _collection_name, (_section, _order) in COLLECTION_SECTIONS.items():
    archive_section(_section)(_collection(_collection_name, _order))


@archive_section("mood_ratings")
async def mood_ratings(session: AsyncSession, who: Person) -> ArchiveRows:
    return await ArchiveRepository(session).rows(MoodRating, who.id, order_by="recorded_at")


@archive_section("burnout_scores")
async def burnout_scores(session: AsyncSession, who: Person) -> ArchiveRows:
    return await ArchiveRepository(session).rows(BurnoutScore, who.id, order_by="computed_at")


@archive_section("insights")
async def insights(session: AsyncSession, who: Person) -> ArchiveRows:
    return await ArchiveRepository(session).rows(Insight, who.id, order_by="generated_at")


@archive_section("connections")
async def connections(session: AsyncSession, who: Person) -> ArchiveRows:
    return await ArchiveRepository(session).rows(Connection, who.id, leave_out=CONNECTION_SECRETS)


@archive_section("sync_runs")
async def sync_runs(session: AsyncSession, who: Person) -> ArchiveRows:
    return await ArchiveRepository(session).rows(SyncRun, who.id)


@archive_section("accounts")
async def accounts(session: AsyncSession, who: Person) -> ArchiveRows:
    return await ArchiveRepository(session).rows(Account, who.id, leave_out=ACCOUNT_SECRETS)


@archive_section("webhook_events")
async def webhook_events(session: AsyncSession, who: Person) -> ArchiveRows:
    """The outgoing-webhook events about the person (what was sent to the organisation's
    endpoints)."""
    return await ArchiveRepository(session).rows(OutgoingEvent, who.id)
