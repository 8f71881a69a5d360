"""Errors of the webhook receivers."""

from __future__ import annotations

from somna.errors import SomnaError


class PayloadTooLarge(SomnaError):
    status_code, error_code = 413, "payload_too_large"
