from __future__ import annotations

from somna.errors import Conflict, NotFound


class PersonNotFound(NotFound):
    error_code = "user_not_found"


class PersonEmailTaken(Conflict):
    error_code = "user_email_taken"
