from __future__ import annotations

from somna.errors import Conflict, NotFound, SomnaError


class ExportNotFound(NotFound):
    error_code = "export_not_found"


class ExportFileNotFound(NotFound):
    error_code = "export_file_not_found"


class ExportNotReady(Conflict):
    error_code = "export_not_ready"


class ExportExpired(SomnaError):
    status_code, error_code = 410, "export_expired"
