"""Provider webhooks: verified, stored once in the inbox, and turned into precise fetches."""
