"""Canonical records: sleep sessions with hypnograms, recovery, cycles, workouts, body, mood."""
