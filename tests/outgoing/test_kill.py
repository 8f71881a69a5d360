"""No outgoing event is lost when processes die between the commit and the delivery.

The event is committed with its job still in the outbox, as a producer SIGKILLed right after
its commit leaves it. A real ``somna worker`` subprocess relays it and starts the delivery; the
receiver holds that request, and the worker's whole process tree is SIGKILLed mid-attempt. A
second worker takes the job up again (embedded: the lease runs out; Procrastinate: the stalled
worker is noticed) and delivers the message with the same ``webhook-id``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from somna import migrations
from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.models import WebhookEndpoint
from somna.outgoing import emit
from somna.outgoing.catalog import ALL
from somna.outgoing.service import secret_box
from somna.outgoing.signing import new_secret
from tests.jobs.conftest import QueueEnv, queue_env
from tests.jobs.processes import kill_tree, stop, wait_for, worker_env
from tests.outgoing.conftest import RETRY_SCHEDULE
from tests.outgoing.receiver import Receiver
from tests.support.factories import make_organization, make_person

__all__ = ["queue_env"]

WAIT_SECONDS = 60.0  # a bound on waiting for the processes, not a measurement


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """``somna worker`` in a session of its own, so a kill reaches all of it."""
    with (cwd / f"worker-{uuid.uuid4().hex[:6]}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "somna", "worker", "--concurrency", "1"],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _commit_event(settings: Settings, url: str) -> str:
    """An endpoint and one committed event whose delivery job waits in the outbox (no queue
    was at hand: what a producer killed right after its commit leaves). Returns the secret."""
    secret = new_secret()
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            organization = await make_organization(session)
            person = await make_person(session, organization)
            session.add(
                WebhookEndpoint(
                    organization_id=organization.id,
                    url=url,
                    description="",
                    events=[ALL],
                    enabled=True,
                    secret_encrypted=secret_box(settings).encrypt(secret),
                )
            )
            await session.flush()
            await emit.connection_changed(
                session, None, organization.id, "connection.revoked",
                person_id=person.id, connection_id=uuid.uuid4(), provider="whoop",
                status="revoked",
            )  # fmt: skip
            await session.commit()
    finally:
        await engine.dispose()
    return secret


def _delivery(db: Engine) -> tuple[str, int]:
    with db.connect() as connection:
        status, attempts = connection.execute(
            text("SELECT status, attempts FROM webhook_deliveries")
        ).one()
    # JSONB comes back decoded; SQLite's JSON as text.
    logged = attempts if isinstance(attempts, list) else json.loads(attempts)
    return str(status), len(logged)


async def test_a_worker_killed_mid_delivery_loses_no_event(
    queue_env: QueueEnv, receiver: Receiver, tmp_path: Path
) -> None:
    extra = {
        "webhooks_allow_private": True,
        "webhook_retry_schedule": RETRY_SCHEDULE,
        "webhook_timeout_seconds": WAIT_SECONDS,  # the held request outlives the first worker
    }
    settings = queue_env.settings.model_copy(update=extra)
    secret = await _commit_event(settings, f"{receiver.url}/hold")
    env = worker_env(settings, **extra)
    db = create_sync_engine(migrations.sync_url(settings.database_url))
    first = second = None
    try:
        first = _start(env, tmp_path)
        wait_for(lambda: len(receiver.to("/hold")) == 1, WAIT_SECONDS, "the first attempt")
        kill_tree(first)  # committed, relayed, mid-attempt: nothing recorded yet
        receiver.released.set()
        assert _delivery(db) == ("pending", 0)

        second = _start(env, tmp_path)
        wait_for(lambda: _delivery(db)[0] != "pending", WAIT_SECONDS, "the second worker")
        assert _delivery(db) == ("succeeded", 1)  # the killed attempt left no log entry
        with db.connect() as connection:
            outbox = connection.execute(text("SELECT count(*) FROM job_outbox")).scalar_one()
        assert outbox == 0
    finally:
        for process in (first, second):
            if process is not None:
                stop(process)
        db.dispose()
    held, delivered = receiver.to("/hold")
    # At least once: the message came again, the same message, and it verifies.
    assert held.headers["webhook-id"] == delivered.headers["webhook-id"]
    assert held.body == delivered.body
    payload = Webhook(secret).verify(delivered.body, delivered.headers)
    assert payload["type"] == "connection.revoked"
