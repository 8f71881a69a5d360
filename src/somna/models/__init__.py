"""Every ORM table, imported here so Alembic sees the whole schema."""

from somna.kit.models import Base
from somna.models.account import ROLES, Account
from somna.models.api_key import ApiKey
from somna.models.audit_event import AUDIT_OUTCOMES, GENESIS_HASH, AuditChainHead, AuditEvent
from somna.models.body_measurement import BodyMeasurement
from somna.models.burnout_score import BurnoutScore
from somna.models.connection import CONNECTION_STATUSES, Connection
from somna.models.cycle import Cycle
from somna.models.export import EXPORT_KINDS, EXPORT_STATUSES, Export
from somna.models.idempotency_key import IdempotencyKey
from somna.models.insight import Insight
from somna.models.job import JOB_STATUSES, Job
from somna.models.job_outbox import JobOutbox
from somna.models.job_schedule import JobSchedule
from somna.models.mood_rating import MoodRating
from somna.models.oauth_state import OAuthState
from somna.models.organization import Organization
from somna.models.outgoing_event import OutgoingEvent
from somna.models.outgoing_sequence import OutgoingSequence
from somna.models.person import Person
from somna.models.recovery import Recovery
from somna.models.refresh_token import RefreshToken
from somna.models.sleep_session import SleepSession
from somna.models.sync_checkpoint import SyncCheckpoint
from somna.models.sync_run import SYNC_STATUSES, SyncRun
from somna.models.usage_event import UsageEvent
from somna.models.user_preferences import UserPreferences
from somna.models.web_session import WebSession
from somna.models.webhook_delivery import DELIVERY_STATUSES, WebhookDelivery
from somna.models.webhook_endpoint import WebhookEndpoint
from somna.models.webhook_event import WebhookEvent
from somna.models.workout import Workout

__all__ = [
    "AUDIT_OUTCOMES",
    "CONNECTION_STATUSES",
    "DELIVERY_STATUSES",
    "EXPORT_KINDS",
    "EXPORT_STATUSES",
    "GENESIS_HASH",
    "JOB_STATUSES",
    "ROLES",
    "SYNC_STATUSES",
    "Account",
    "ApiKey",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "BodyMeasurement",
    "BurnoutScore",
    "Connection",
    "Cycle",
    "Export",
    "IdempotencyKey",
    "Insight",
    "Job",
    "JobOutbox",
    "JobSchedule",
    "MoodRating",
    "OAuthState",
    "Organization",
    "OutgoingEvent",
    "OutgoingSequence",
    "Person",
    "Recovery",
    "RefreshToken",
    "SleepSession",
    "SyncCheckpoint",
    "SyncRun",
    "UsageEvent",
    "UserPreferences",
    "WebSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workout",
]
