"""Moved: the telemetry client is part of the SDK now, as :mod:`somna_client.telemetry`.

This name stays so that code written against ``somna.telemetry`` keeps working.
"""

from somna_client.telemetry import flush, init, is_enabled, shutdown, track_event

__all__ = ["flush", "init", "is_enabled", "shutdown", "track_event"]
