"""Outgoing webhooks: endpoints an organisation registers, events written with the changes they
report, and their signed, retried delivery (Standard Webhooks). Incoming provider webhooks live
in ``somna.webhooks``."""
