"""Asleep (AsleepTrack) API: key-authenticated client, mapper of 30-second sessions, webhooks."""
