"""SQL of sync, one module per table it owns or reads: runs, checkpoints, connections, and the
stored records it plans and reconciles with."""

from somna.sync.repositories.checkpoints import NEVER_SYNCED, Checkpoint, CheckpointRepository
from somna.sync.repositories.connections import PAUSED, SyncConnectionRepository
from somna.sync.repositories.runs import PENDING_STATUSES, SyncRunRepository
from somna.sync.repositories.stored import RECONCILABLE, TIME_COLUMNS, StoredRecords

__all__ = [
    "NEVER_SYNCED",
    "PAUSED",
    "PENDING_STATUSES",
    "RECONCILABLE",
    "TIME_COLUMNS",
    "Checkpoint",
    "CheckpointRepository",
    "StoredRecords",
    "SyncConnectionRepository",
    "SyncRunRepository",
]
