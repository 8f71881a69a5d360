"""Provider integrations: one package per vendor behind the interface in ``base``."""
