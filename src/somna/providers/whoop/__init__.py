"""WHOOP Developer API v2: OAuth client, API client, mapper, webhook signatures."""
