"""Mood ratings: a person's self-reported mood, 1 (worst) to 10 (best), per local date."""
