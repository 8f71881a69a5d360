"""Analytics kept current by jobs: a person's burnout level after a sync changed their data,
so ``burnout.level_changed`` reaches webhooks when the data moves the level, not only when
someone happens to read it."""

from __future__ import annotations

import uuid

from somna.analytics import person_service
from somna.analytics.person_context import person_context
from somna.jobs.port import JobContext
from somna.jobs.registry import task
from somna.kit.time import utc_now
from somna.people.repository import PersonRepository

BURNOUT_TASK = "analytics.burnout"
# The collections burnout reads (mood is entered through the API, which reads it anyway).
BURNOUT_INPUTS = frozenset({"sleep", "recovery"})


@task(BURNOUT_TASK, dedup="analytics.burnout:{person_id}", max_attempts=3)
async def refresh_burnout(ctx: JobContext, person_id: str) -> None:
    """Compute and store today's level; a change from the stored one is announced in the same
    transaction (``person_service.burnout``). A person awaiting deletion is left alone."""
    async with ctx.sessionmaker() as session, session.begin():
        person = await PersonRepository(session).get_unscoped(uuid.UUID(person_id))
        if person is None or person.delete_after is not None:
            return
        context = await person_context(session, person, utc_now())
        await person_service.burnout(session, context, 0, queue=ctx.queue)
