"""Sync: windows, checkpoints, the webhook inbox and the provider budget (``sync.pacer``)."""
