from tests.connections.support import asleep, sync_app, sync_client, sync_settings, whoop

__all__ = ["asleep", "sync_app", "sync_client", "sync_settings", "whoop"]
