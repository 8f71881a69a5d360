from __future__ import annotations

from somna.errors import Conflict


class DeletionNotScheduled(Conflict):
    error_code = "deletion_not_scheduled"
