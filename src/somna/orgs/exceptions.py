from __future__ import annotations

from somna.errors import Conflict


class SlugTaken(Conflict):
    error_code = "slug_taken"
