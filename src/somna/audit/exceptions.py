"""Errors of the audit log."""

from __future__ import annotations

from somna.errors import Unprocessable


class ReversedPeriod(Unprocessable):
    kind = "reversed_period"
