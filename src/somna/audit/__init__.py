"""The audit log: an append-only, hash-chained record of access to personal data and of
administrative actions, per organisation."""
