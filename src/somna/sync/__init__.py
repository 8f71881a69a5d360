"""Sync: runs, windows, checkpoints and the webhook inbox; provider pacing is ``somna.pacing``."""
