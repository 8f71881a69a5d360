"""API keys: create, list, rotate, revoke; their signing secrets and HMAC request checks."""
